"""The workbench's batch run (sand_gui.batch) on a real synthetic corpus with a real (tiny)
bundle: the same scores as ``sand-train evaluate``, the feature cache, progress and cancel,
the exports, and a recording the analysis refuses."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import soundfile as sf

from sand_gui.batch import BatchResult, Cancelled, run_batch
from sand_gui.dataset import TEST_SHEET, TEST_WORKBOOK
from sand_gui.dataset_index import DatasetIndex, Status
from sand_gui.errors import DatasetError, SandError
from sand_gui.model import Classifier
from sand_gui.tasks import TASK_IDS
from training.synth import generate_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Five synthetic patients (``sand-train synth``), one per class, and a test set of two unlabelled patients."""
    root = generate_corpus(tmp_path_factory.mktemp("synth") / "c", patients=5, seed=6, class_priors="uniform").root
    for wav in root.glob("training/*/*.wav"):  # the first 3.5 s of each: the same voices, a faster test
        x, sr = sf.read(wav, dtype="int16")
        sf.write(wav, x[: int(3.5 * sr)], sr, subtype="PCM_16")
    for n, source in ((16, "ID001"), (17, "ID003")):
        for task in TASK_IDS:
            dst = root / "test" / task / f"ID{n:03d}_{task}.wav"
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / "training" / task / f"{source}_{task}.wav", dst)
    wb = openpyxl.Workbook()
    wb.active.title = TEST_SHEET
    for r in (["ID", "Age", "Sex"], [16, 61, "F"], [17, 70, "M"]):
        wb.active.append(r)
    wb.save(root / TEST_WORKBOOK)
    return root


@pytest.fixture(scope="module")
def classifier(tiny_bundle) -> Classifier:
    return Classifier.from_file(tiny_bundle, device="cpu")


@pytest.fixture(scope="module")
def result(corpus, classifier) -> BatchResult:
    index = DatasetIndex.open(corpus)
    return run_batch(index, index.rows, classifier)


@pytest.mark.slow
def test_batch_scores_equal_sand_train_evaluate(corpus, tiny_bundle, result):
    from training.evaluate import evaluate

    expected = evaluate(tiny_bundle, corpus, sheet="training", device="cpu")
    for key in ("classes", "vote", "recording_level", "patient_level", "warnings"):
        assert result.metrics[key] == expected[key], key
    assert result.metrics["recording_level"]["n"] == 40 and result.metrics["patient_level"]["n"] == 5
    assert {"macro_f1", "mean_absolute_error", "quadratic_weighted_kappa"} <= set(result.metrics["patient_level"])


def test_predictions_and_confusion_cells(result):
    assert len(result.recordings) == 56 and all(r.ok for r in result.recordings) and result.skipped == []
    assert set(result.patients) == {f"ID{i:03d}" for i in range(5)} | {"ID016", "ID017"}
    for r in result.recordings:
        assert sum(r.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert r.predicted == max(r.probabilities, key=r.probabilities.get)
    cm = result.metrics["patient_level"]["confusion_matrix"]
    for i, t in enumerate(result.classes):
        for j, p in enumerate(result.classes):
            ids = result.cell(t, p)
            assert len(ids) == cm[i][j] and all(result.patients[x].true == t for x in ids)
    assert result.patients["ID016"].true is None and result.patients["ID016"].n_tasks == 8
    assert result.model["name"] == "tiny-test-model"


def test_feature_cache_gives_the_same_probabilities(corpus, classifier, result, tmp_path):
    index = DatasetIndex.open(corpus)
    rows = index.filter(classes=[1])
    first = run_batch(index, rows, classifier, cache_dir=tmp_path)
    second = run_batch(index, rows, classifier, cache_dir=tmp_path)
    assert (first.cache["computed"], first.cache["reused"]) == (8, 0)
    assert (second.cache["computed"], second.cache["reused"]) == (0, 8)
    plain = {(r.patient, r.task): r.probabilities for r in result.recordings}
    for a, b in zip(first.recordings, second.recordings):
        assert a.probabilities == b.probabilities
        assert np.allclose(list(a.probabilities.values()), list(plain[(a.patient, a.task)].values()), atol=1e-6)


def test_progress_and_cancel_leave_nothing_half_written(corpus, classifier, tmp_path):
    index = DatasetIndex.open(corpus)
    seen = []
    out = tmp_path / "out"
    out.mkdir()

    def cancel() -> bool:
        return len(seen) >= 3

    with pytest.raises(Cancelled) as err:
        res = run_batch(
            index, index.rows, classifier, cache_dir=out / "cache", progress=lambda *a: seen.append(a), cancel=cancel
        )
        res.write_csv(out / "predictions.csv")
    assert "\n" not in str(err.value) and "cancelled after 3 of 56" in str(err.value)
    assert [s[:2] for s in seen] == [(0, 56), (1, 56), (2, 56)] and seen[0][2] == "ID000 phonationA"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not any(p.suffix == ".csv" or p.name.endswith(".part") for p in files)


def test_csv_exports_read_back(result, tmp_path):
    result.write_csv(tmp_path / "rec.csv")
    result.write_csv(tmp_path / "pat.csv", level="patient")
    recs = list(csv.DictReader(io.StringIO((tmp_path / "rec.csv").read_text(encoding="utf-8"))))
    pats = list(csv.DictReader(io.StringIO((tmp_path / "pat.csv").read_text(encoding="utf-8"))))
    assert len(recs) == 56 and recs[0]["task"] == "phonationA" and recs[0]["error"] == ""
    assert sum(float(recs[0][f"p{c}"]) for c in result.classes) == pytest.approx(1.0, abs=1e-5)
    assert len(pats) == 7 and {p["patient"]: int(p["predicted"]) for p in pats} == {
        k: v.predicted for k, v in result.patients.items()
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pat.csv", "rec.csv"]  # no temporary left


@pytest.mark.slow
def test_submission_equals_sand_train_predict(corpus, tiny_bundle, result, tmp_path):
    from training.evaluate import predict

    index = DatasetIndex.open(corpus)
    path = result.write_submission(tmp_path / "submission.csv", index)
    assert path.read_text(encoding="utf-8") == predict(tiny_bundle, corpus, device="cpu").csv
    assert [line.split(",")[0] for line in path.read_text().splitlines()] == ["ID", "16", "17"]


def test_incomplete_submission_is_refused(corpus, result, tmp_path):
    index = DatasetIndex.open(corpus)
    partial = dataclasses.replace(result, patients={"ID016": result.patients["ID016"]})
    with pytest.raises(DatasetError) as err:
        partial.write_submission(tmp_path / "s.csv", index)
    assert "no result for 1 patient(s) (17)" in str(err.value) and "\n" not in str(err.value)
    assert not list(tmp_path.iterdir())
    text = partial.write_submission(tmp_path / "s.csv", index, fill=3).read_text()
    assert text.splitlines() == ["ID,CLASS", f"16,{partial.patients['ID016'].predicted}", "17,3"]


def test_a_refused_recording_is_reported_and_the_rest_runs(corpus, classifier, tmp_path):
    root = Path(shutil.copytree(corpus, tmp_path / "c"))
    sf.write(root / "training" / "phonationE" / "ID002_phonationE.wav", np.zeros(16000), 8000, subtype="PCM_16")
    index = DatasetIndex.open(root)
    rows = index.filter(text="ID002")
    assert rows[0].cells["phonationE"].status == Status.PRESENT  # the header is fine: only analysis tells
    done = []
    res = run_batch(index, rows, classifier, progress=lambda *a: done.append(a))
    assert [d[0] for d in done] == list(range(9)) and done[-1] == (8, 8, "")
    bad = [r for r in res.recordings if not r.ok]
    assert [(r.patient, r.task, r.error_code) for r in bad] == [("ID002", "phonationE", "silent")]
    assert res.skipped == [f"ID002 phonationE: {bad[0].error}"] and "digital silence" in bad[0].error
    assert res.patients["ID002"].n_tasks == 7 and res.metrics["recording_level"]["n"] == 7
    res.mark(index)
    assert index.row("ID002").cells["phonationE"].status == Status.REJECTED


@pytest.mark.slow
def test_fused_bundle_adds_measures_and_fusion_side_by_side(corpus, tmp_path):
    """A bundle carrying a (tiny, real) measures model: one patient measured with Praat, the
    other judged by the network alone, and the three patient-level reports side by side."""
    pytest.importorskip("parselmouth", reason="install the measures extra (praat-parselmouth)")
    pytest.importorskip("xgboost", reason="install xgboost for the measures classifier")
    from fusedtest import make_fused_bundle

    from sand_gui.bundle import load_bundle
    from sand_gui.fusion import Fusion
    from sand_gui.measures.patient import measure_patient

    bundle = load_bundle(make_fused_bundle(tmp_path / "fused.safetensors", w=0.6))
    clf, fusion = Classifier(bundle, device="cpu"), Fusion.from_bundle(bundle)
    index = DatasetIndex.open(corpus)
    rows = index.filter(classes=[1, 2])
    measured = rows[0]
    measures = {measured.patient_id: measure_patient(measured.recordings(), spec=clf.spec, sex=measured.sex)}
    res = run_batch(index, rows, clf, fusion=fusion, measures=measures)
    mine, other = res.patients[measured.patient_id], res.patients[rows[1].patient_id]
    assert mine.fused.used == "fusion" and mine.fused.measures_probabilities and mine.fused.final_class in res.classes
    assert other.fused.used == "network" and other.fused.final_class == other.predicted
    assert other.fused.reason.startswith("network only: no measure could be taken")
    side = res.metrics["fusion"]
    assert side["without_measures"] == 1 and side["measures"]["n"] == 1 and side["fusion"]["n"] == 2
    assert side["network"]["confusion_matrix"] == res.metrics["patient_level"]["confusion_matrix"]
    table = list(csv.DictReader(io.StringIO(res.csv_text(level="patient"))))
    assert [r["fused_used"] for r in table] == [res.patients[r["patient"]].fused.used for r in table]


def test_unusable_cache_folder_is_one_sentence(corpus, classifier, tmp_path):
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    index = DatasetIndex.open(corpus)
    with pytest.raises(SandError) as err:
        run_batch(index, index.rows[:1], classifier, cache_dir=tmp_path / "cache")
    assert "\n" not in str(err.value) and "cache" in str(err.value)
