"""The measures vector, the fusion rule and its fitting (sand_gui.measures.vector, sand_gui.fusion,
training.fusion_fit, training.measures_fit), with a real tiny XGBoost model in a real bundle."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fusedtest import make_fused_bundle, measures_model_json, training_vectors
from hypothesis import given, settings
from hypothesis import strategies as st
from sandtest import TEST_SPEC

from sand_gui.bundle import load_bundle
from sand_gui.errors import BundleError
from sand_gui.fusion import FusedVerdict, Fusion, combine, fuse
from sand_gui.measures.patient import across_measures
from sand_gui.measures.results import (
    DDK_MEASURES,
    PATIENT_MEASURES,
    VOWEL_MEASURES,
    PatientMeasures,
    TaskMeasures,
    Why,
    measured,
    not_measurable,
)
from sand_gui.measures.settings import settings_for
from sand_gui.measures.vector import FEATURE_NAMES, VOWEL_TASKS, vectorise
from sand_gui.metrics import report
from sand_gui.pipeline import AnalysisResult
from sand_gui.votes import majority_vote
from training.fusion_fit import fit_fusion
from training.measures_fit import fit_measures_model

CLASSES = [1, 2, 3, 4, 5]


@pytest.fixture(scope="module")
def fused(tmp_path_factory):
    return load_bundle(make_fused_bundle(tmp_path_factory.mktemp("fused") / "fused.safetensors", w=0.6))


def patient(values: dict[str, float], *, tasks=None, sample_rate: int = TEST_SPEC.sample_rate) -> PatientMeasures:
    """Measures of the given ``task.measure`` values; every other measure of ``tasks`` not measurable."""
    settings = settings_for(sex="U", sample_rate=sample_rate).to_dict()
    rows = {}
    for name in FEATURE_NAMES:
        task, key = name.split(".")
        if task == "across" or (tasks is not None and task not in tasks):
            continue
        m = (
            measured(key, values[name], task_id=task, method="test")
            if name in values
            else not_measurable(key, task_id=task, why=Why.TOO_SHORT, reason="too short.")
        )
        rows.setdefault(task, []).append(m)
    tms = {t: TaskMeasures(task=t, file=f"{t}.wav", measures=ms, settings=settings) for t, ms in rows.items()}
    return PatientMeasures(list(tms.values()), across_measures(tms), "U", settings, {}, 0.0)


def result(task_probs: dict[str, list[float]]) -> AnalysisResult:
    probs = {t: np.array(p) for t, p in task_probs.items()}
    verdict = majority_vote(probs, CLASSES) if probs else None
    return AnalysisResult([], verdict, None, {}, "cpu", "", 0.0)


NET = result({"phonationA": [0.1, 0.6, 0.1, 0.1, 0.1], "rhythmPA": [0.1, 0.5, 0.2, 0.1, 0.1]})


def test_feature_names_fixed_order():
    assert (
        len(FEATURE_NAMES)
        == len(set(FEATURE_NAMES))
        == 5 * len(VOWEL_MEASURES) + len(PATIENT_MEASURES) + 3 * len(DDK_MEASURES)
    )
    assert FEATURE_NAMES[0] == "phonationA.f0_mean_hz"
    assert FEATURE_NAMES[5 * len(VOWEL_MEASURES)] == "across.vowel_space_area"
    assert FEATURE_NAMES[5 * len(VOWEL_MEASURES) + 1] == "across.formant_centralization_ratio"
    assert FEATURE_NAMES[-1] == "rhythmKA.intensity_sd_db"
    assert VOWEL_TASKS == ("phonationA", "phonationE", "phonationI", "phonationO", "phonationU")


def test_vectorise_nan_where_missing():
    pm = patient({"phonationA.f0_mean_hz": 120.5, "rhythmTA.ddk_rate": 5.25}, tasks={"phonationA", "rhythmTA"})
    v = vectorise(pm)
    assert v.dtype == np.float32 and v.shape == (len(FEATURE_NAMES),)
    assert v[FEATURE_NAMES.index("phonationA.f0_mean_hz")] == pytest.approx(120.5)
    assert v[FEATURE_NAMES.index("rhythmTA.ddk_rate")] == pytest.approx(5.25)
    assert np.isnan(v).sum() == len(FEATURE_NAMES) - 2  # not measurable, unrecorded tasks, the area


def test_no_measures_model_network_alone(tiny_bundle):
    assert Fusion.from_bundle(load_bundle(tiny_bundle)) is None
    v = fuse(NET, patient({"phonationA.f0_mean_hz": 100.0}), None)
    assert (v.final_class, v.used) == (2, "network")
    assert v.reason == "network only: the bundle carries no measures model"


def test_no_measures_network_alone_with_reason(fused):
    fusion = Fusion.from_bundle(fused)
    v = fuse(NET, None, fusion)
    assert (v.final_class, v.used) == (2, "network") and "no measure could be taken" in v.reason
    v = fuse(NET, patient({}), fusion)
    assert v.used == "network" and "every measure is not measurable" in v.reason
    v = fuse(NET, patient({"phonationA.f0_mean_hz": 100.0}, sample_rate=16000), fusion)
    assert v.used == "network" and "other settings" in v.reason


def test_partial_measures_still_fused(fused):
    fusion = Fusion.from_bundle(fused)
    x, y = training_vectors()
    values = {FEATURE_NAMES[0]: float(x[4, 0])}  # one measure of a class-5 patient, the rest missing
    v = fuse(NET, patient(values), fusion)
    assert v.used == "fusion" and v.missing_measures == len(FEATURE_NAMES) - 1
    assert v.reason.startswith("fusion of the network (w=0.60) and the measures (w=0.40)")
    assert f"{len(FEATURE_NAMES) - 1} of {len(FEATURE_NAMES)} measures missing" in v.reason
    expect = {c: 0.6 * v.network_probabilities[c] + 0.4 * v.measures_probabilities[c] for c in CLASSES}
    assert v.probabilities == pytest.approx(expect)
    assert v.final_class == max(CLASSES, key=lambda c: (expect[c], -c))
    assert sum(v.measures_probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    text = json.dumps(v.to_dict(), allow_nan=False)
    assert json.loads(text)["used"] == "fusion" and "\n" not in v.reason


def test_no_network_task_no_verdict(fused):
    v = fuse(result({}), patient({FEATURE_NAMES[0]: 1.0}), Fusion.from_bundle(fused))
    assert isinstance(v, FusedVerdict) and v.final_class is None and v.probabilities == {}
    assert v.reason.startswith("no verdict")


def test_decision_network_keeps_vote(tmp_path):
    bundle = load_bundle(make_fused_bundle(tmp_path / "n.safetensors", decision="network", w=1.0))
    v = fuse(NET, patient({FEATURE_NAMES[0]: 40.0}), Fusion.from_bundle(bundle))
    assert (v.final_class, v.used) == (NET.verdict.final_class, "network")
    assert v.measures_probabilities and "validation" in v.reason


@pytest.mark.parametrize("decision, w, used", [("measures", 0.0, "measures"), ("weighted", 0.3, "fusion")])
def test_a_rule_fixed_by_the_bundles_maker_says_why(tmp_path, decision, w, used):
    why = "the leave-one-mechanism-out table says the measures carry over to unheard voices"
    validation = {"patients": 40, "fixed_because": why, "preferred": {"decision": "weighted", "w_network": 0.8}}
    path = make_fused_bundle(tmp_path / "f.safetensors", decision=decision, w=w, validation=validation)
    fusion = Fusion.from_bundle(load_bundle(path))
    v = fuse(NET, patient({FEATURE_NAMES[0]: 40.0}), fusion)
    assert v.used == used and f"fixed by the bundle's maker: {why}" in v.reason and "validation" not in v.reason
    assert fusion.fixed_because == why and f"fixed: {why}" in fusion.describe()


@pytest.mark.parametrize("hostile", [123, "", "line one\nline two " + "x" * 500, ["a list"]])
def test_a_hostile_reason_for_a_fixed_rule_stays_one_short_line_or_is_ignored(tmp_path, hostile):
    validation = {"patients": 1, "fixed_because": hostile}
    path = make_fused_bundle(tmp_path / "h.safetensors", decision="measures", w=0.0, validation=validation)
    fusion = Fusion.from_bundle(load_bundle(path))
    v = fuse(NET, patient({FEATURE_NAMES[0]: 40.0}), fusion)
    assert "\n" not in v.reason and len(v.reason) < 300
    if not (isinstance(hostile, str) and hostile.strip()):
        assert fusion.fixed_because is None and "validation" in v.reason


def test_wrong_feature_names_refused(tmp_path):
    names = [*FEATURE_NAMES[:-1], "other.m0"]
    bundle = load_bundle(make_fused_bundle(tmp_path / "w.safetensors", names=names))
    with pytest.raises(BundleError) as err:
        Fusion.from_bundle(bundle)
    assert str(err.value).startswith("w.safetensors: its measures model was trained on another measure vector")
    assert "other.m0" in str(err.value) and "\n" not in str(err.value)


def test_a_model_of_an_older_vector_reads_its_own_columns_by_name(tmp_path):
    """A bundle fused before the formant ratios existed (117 measures, no FCR or F2i/F2u) still
    works: its model sees exactly its columns, in its order, taken by name from today's vector."""
    old = [n for n in FEATURE_NAMES if n not in ("across.formant_centralization_ratio", "across.f2i_f2u_ratio")]
    assert len(old) == 117
    raw = measures_model_json(n_features=len(old))
    fusion = Fusion.from_bundle(load_bundle(make_fused_bundle(tmp_path / "old.safetensors", names=old, raw=raw)))
    rng = np.random.default_rng(3)
    full = rng.normal(size=(4, len(FEATURE_NAMES))).astype(np.float32)
    import xgboost as xgb

    direct = xgb.Booster()
    direct.load_model(bytearray(raw))
    own = full[:, [FEATURE_NAMES.index(n) for n in old]]
    expect = direct.predict(xgb.DMatrix(own, missing=np.nan)).reshape(4, 5)
    assert np.allclose(fusion.probabilities_of(full), expect)
    ratios = full.copy()
    ratios[:, [FEATURE_NAMES.index("across.formant_centralization_ratio")]] = 1e6  # a column it never read
    assert np.allclose(fusion.probabilities_of(ratios), expect)


def test_combine_rules():
    net = np.array([[0.5, 0.5, 0, 0, 0], [0.1, 0.1, 0.1, 0.1, 0.6]])
    meas = np.array([[0, 0, 1.0, 0, 0], [np.nan] * 5])
    votes = np.array([2, 4])
    assert combine("network", 1.0, net, votes, meas, CLASSES).tolist() == [2, 4]
    assert combine("measures", 0.0, net, votes, meas, CLASSES).tolist() == [3, 4]  # no measure: the vote
    assert combine("weighted", 1.0, net, votes, meas, CLASSES).tolist() == [1, 4]  # tie -> the more severe class


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(5, 40))
def test_fusion_never_below_better_part(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 6, size=n)
    net = rng.dirichlet(np.ones(5), size=n)
    votes = rng.integers(1, 6, size=n)
    meas = rng.dirichlet(np.ones(5), size=n)
    meas[rng.random(n) < 0.2] = np.nan
    choice = fit_fusion(y, net, votes, meas, CLASSES)
    parts = [
        report(y.tolist(), votes.tolist(), CLASSES)["macro_f1"],
        report(y.tolist(), combine("measures", 0.0, net, votes, meas, CLASSES).tolist(), CLASSES)["macro_f1"],
    ]
    again = combine(choice.decision, choice.w_network, net, votes, meas, CLASSES)
    assert report(y.tolist(), again.tolist(), CLASSES)["macro_f1"] == pytest.approx(choice.macro_f1)
    assert choice.macro_f1 >= max(parts) - 1e-12


def test_measures_model_deterministic_and_balanced():
    x, y = training_vectors(n=30)
    labels = [CLASSES[i] for i in y]
    grid = ({"max_depth": 2, "n_trees": 5}, {"max_depth": 3, "n_trees": 5})
    a = fit_measures_model(x, labels, CLASSES, grid=grid)
    b = fit_measures_model(x, labels, CLASSES, grid=grid)
    assert a.json_bytes() == b.json_bytes()
    assert [c["max_depth"] for c in a.cv] == [2, 3] and a.params["objective"] == "multi:softprob"
    best = max(a.cv, key=lambda c: (c["cv_macro_f1"], -c["max_depth"]))
    assert (a.params["max_depth"], a.params["n_trees"]) == (best["max_depth"], 5)
    model = json.loads(a.json_bytes())
    assert model["learner"]["learner_model_param"]["num_feature"] == str(len(FEATURE_NAMES))


@pytest.mark.slow
def test_real_analysis_and_measures_are_fused(fused, patient_dir):
    """The app's path: analyze() with the fused bundle's network, measure_patient() with Praat, fuse()."""
    from sand_gui.measures import measure_patient
    from sand_gui.model import Classifier
    from sand_gui.pipeline import analyze
    from sand_gui.tasks import TASK_IDS

    recordings = {t: patient_dir / f"ID042_{t}.wav" for t in TASK_IDS}
    res = analyze(recordings, Classifier(fused, device="cpu"))
    measures = measure_patient(recordings, spec=fused.card.spec)
    v = fuse(res, measures, Fusion.from_bundle(fused))
    assert v.used == "fusion" and v.final_class in CLASSES
    assert v.network_probabilities == pytest.approx(res.verdict.mean_probabilities)
    assert v.missing_measures == int(np.isnan(vectorise(measures)).sum()) < len(FEATURE_NAMES)
    assert sum(v.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_xgboost_imported_only_when_a_measures_model_is_built():
    import subprocess
    import sys

    code = "import sys, sand_gui.fusion; print([m for m in ('xgboost', 'torch', 'PySide6') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
