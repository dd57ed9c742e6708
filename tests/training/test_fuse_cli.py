"""``sand-train fuse`` end to end on a tiny synthetic corpus (``sand-train synth``), then
``sand-train evaluate`` on the fused bundle: network, measures and fusion side by side."""

from __future__ import annotations

import json
import shutil

import pytest
from sandtest import make_tiny_bundle

from sand_gui.bundle import load_bundle, read_card
from sand_gui.fusion import Fusion
from sand_gui.measures.vector import FEATURE_NAMES
from training.cli import main

pytestmark = pytest.mark.slow  # measures 64 recordings with Praat (about 10-20 s on an idle 2-core VM)


@pytest.fixture(scope="module")
def fused(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuse")
    assert (
        main(["synth", str(root / "corpus"), "--patients", "8", "--seed", "5", "--class-priors", "uniform", "--quiet"])
        == 0
    )
    model = make_tiny_bundle(root / "tiny.safetensors")
    out = root / "fused.safetensors"
    argv = ["fuse", "--model", str(model), "--data", str(root / "corpus"), "--cache", str(root / "cache")]
    code = main([*argv, "--device", "cpu", "--out", str(out), "--json", "--quiet"])
    return root, model, out, code


def test_fuse_writes_a_fused_bundle(fused, capsys):
    root, model, out, code = fused
    assert code == 0
    bundle = load_bundle(out)
    assert bundle.card.weights_sha256 == read_card(model).weights_sha256  # the network is unchanged
    section = bundle.card.fusion
    assert section["feature_names"] == list(FEATURE_NAMES)
    assert section["decision"] in ("weighted", "network", "measures") and 0 <= section["w_network"] <= 1
    val = section["validation"]
    assert val["chosen"]["macro_f1"] >= max(val["network"]["macro_f1"], val["measures"]["macro_f1"])
    assert section["training"]["patients"] + val["patients"] == 8
    assert len(list((root / "cache" / "measures").glob("*.json"))) == 64
    assert Fusion.from_bundle(bundle) is not None


def test_evaluate_side_by_side(fused, capsys):
    root, _, out, _ = fused
    capsys.readouterr()
    argv = ["evaluate", "--model", str(out), "--data", str(root / "corpus"), "--sheet", "training"]
    assert main([*argv, "--cache", str(root / "cache"), "--device", "cpu", "--json", "--quiet"]) == 0
    res = json.loads(capsys.readouterr().out)
    parts = res["fusion"]
    assert {"network", "measures", "fusion"} <= set(parts)
    assert parts["network"]["macro_f1"] == res["patient_level"]["macro_f1"]  # the network's vote, as without fusion
    assert all(parts[k]["n"] == res["patient_level"]["n"] for k in ("measures", "fusion"))
    for k in ("network", "measures", "fusion"):  # the ordinal scores for every part, not only the network
        assert parts[k]["mean_absolute_error"] == pytest.approx(_mae(parts[k]["confusion_matrix"]))
    assert parts["network"]["quadratic_weighted_kappa"] == res["patient_level"]["quadratic_weighted_kappa"]
    assert main([*argv, "--cache", str(root / "cache"), "--device", "cpu", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "ConvNeXt" in text and "measures" in text and "F1 class 5" in text and "QWK" in text


def test_evaluate_writes_every_parts_whole_report_into_the_card(fused, tmp_path, capsys):
    root, _, out, _ = fused
    bundle = tmp_path / "fused.safetensors"
    bundle.write_bytes(out.read_bytes())
    argv = ["evaluate", "--model", str(bundle), "--data", str(root / "corpus"), "--sheet", "training"]
    assert main([*argv, "--cache", str(root / "cache"), "--device", "cpu", "--quiet", "--write-card", "heldout"]) == 0
    capsys.readouterr()
    card = load_bundle(bundle).card  # loads: sealed again, weights untouched
    parts = card.metrics["heldout"]["fusion"]
    assert set(parts) == {"network", "measures", "fusion"}
    for part in parts.values():  # per class and confusion, for the card dialog's tables
        assert sum(map(sum, part["confusion_matrix"])) == part["n"] == 8 and set(part["per_class"]) == set("12345")
        assert "mean_absolute_error" in part and "quadratic_weighted_kappa" in part
    assert parts["network"]["macro_f1"] == card.metrics["heldout"]["patient_level"]["macro_f1"]


def _mae(confusion: list[list[int]]) -> float:
    """Mean |true - predicted| class distance read off a confusion matrix (rows: true classes in order)."""
    n = sum(map(sum, confusion))
    return sum(abs(i - j) * c for i, row in enumerate(confusion) for j, c in enumerate(row)) / n


@pytest.mark.parametrize("rule, decision, w", [("measures", "measures", 0.0), ("w=0.3", "weighted", 0.3)])
def test_a_fixed_rule_goes_into_the_card_with_its_reason_and_the_preferred_one(fused, capsys, rule, decision, w):
    root, model, _, _ = fused
    out = root / f"fixed-{decision}.safetensors"
    argv = ["fuse", "--model", str(model), "--data", str(root / "corpus"), "--cache", str(root / "cache")]
    why = "the leave-one-mechanism-out table says the measures carry over"
    assert main([*argv, "--device", "cpu", "--out", str(out), "--rule", rule, "--because", why, "--quiet"]) == 0
    text = capsys.readouterr().out
    assert f"fixed: {why}" in text and "fixed rule" in text
    section = load_bundle(out).card.fusion
    assert (section["decision"], section["w_network"]) == (decision, w)
    val = section["validation"]
    assert val["fixed_because"] == why and val["preferred"]["decision"] in ("weighted", "network", "measures")
    fusion = Fusion.from_bundle(load_bundle(out))
    assert fusion.fixed_because == why and why in fusion.describe()  # what the report and the window say


def test_a_fixed_rule_needs_a_reason_and_a_known_rule(fused, capsys):
    root, model, _, _ = fused
    argv = ["fuse", "--model", str(model), "--data", str(root / "corpus"), "--out", str(root / "x.safetensors")]
    for extra, words in ((["--rule", "measures"], "--because"), (["--rule", "w=0.33", "--because", "x"], "w=W")):
        capsys.readouterr()
        assert main([*argv, *extra, "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("sand-train: error: ") and words in err and "\n" not in err
    assert not (root / "x.safetensors").exists()


@pytest.mark.parametrize(
    "args, words",
    [
        (["--out", "{model}"], "not over --model"),
        (["--out", "{root}/fused.bin"], "must end in .safetensors"),
        (["--out", "{root}/x.safetensors", "--workers", "0"], "at least one process"),
        (["--out", "{root}/x.safetensors", "--train-sheet", "Nope"], "Nope"),
    ],
)
def test_fuse_bad_input_one_line(fused, capsys, args, words):
    root, model, _, _ = fused
    capsys.readouterr()
    args = [a.format(root=root, model=model) for a in args]
    code = main(["fuse", "--model", str(model), "--data", str(root / "corpus"), *args, "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("sand-train: error: ") and words in err and "\n" not in err


def test_fuse_missing_model_one_line(tmp_path, capsys):
    code = main(
        [
            "fuse",
            "--model",
            str(tmp_path / "none.safetensors"),
            "--data",
            str(tmp_path),
            "--out",
            str(tmp_path / "o.safetensors"),
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 2 and "none.safetensors: model bundle not found." in err and "\n" not in err


def test_more_measures_data_adds_patients_to_the_measures_classifier_only(fused, tmp_path, capsys):
    """Another corpus's patients join the measures classifier's training (the card counts and
    names them); validation is untouched; a corpus sharing a patient ID is refused in one line."""
    root, model, plain, _ = fused
    more, cache = tmp_path / "more", tmp_path / "cache"
    shutil.copytree(root / "cache", cache)  # the module's cache stays as the other tests expect it
    synth = ["synth", str(more), "--patients", "5", "--seed", "6", "--id-offset", "100", "--class-priors", "uniform"]
    assert main([*synth, "--quiet"]) == 0
    out = tmp_path / "more.safetensors"
    argv = ["fuse", "--model", str(model), "--data", str(root / "corpus"), "--cache", str(cache)]
    assert main([*argv, "--more-measures-data", str(more), "--device", "cpu", "--out", str(out), "--quiet"]) == 0
    section, before = load_bundle(out).card.fusion, load_bundle(plain).card.fusion
    assert section["training"]["patients"] == before["training"]["patients"] + 5
    assert section["training"]["more_data"] == [{"data": "more", "patients": 5}]
    assert section["validation"]["patients"] == before["validation"]["patients"]
    assert section["validation"]["network"] == before["validation"]["network"]  # the network's side is the same
    assert load_bundle(out).measures_model != load_bundle(plain).measures_model
    capsys.readouterr()
    bad = tmp_path / "bad.safetensors"
    code = main([*argv, "--more-measures-data", str(root / "corpus"), "--device", "cpu", "--out", str(bad), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and "is also in" in err and "\n" not in err and not bad.exists()
