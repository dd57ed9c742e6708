"""What ships in resources/: the default model bundle and the synthetic demo patients."""

import json
import subprocess
import sys

import pytest

from sand_gui.bundle import load_bundle, read_card
from sand_gui.dataset import SandLayout
from sand_gui.resources import default_bundle_path, demo_dir, resources_dir

MB = 2**20


def test_resources_stay_light():
    files = [p for p in resources_dir().rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    assert sum(p.stat().st_size for p in files) < 20 * MB
    assert all(p.stat().st_size < 20 * MB for p in files)


def test_the_default_bundle_says_it_is_synthetic_and_carries_its_scores():
    path = default_bundle_path()
    assert path is not None and path.suffix == ".safetensors"
    card = load_bundle(path).card
    assert card.synthetic and "synthetic" in card.notes.lower() and "not a clinical instrument" in card.notes
    held = card.metrics["heldout"]["patient_level"]
    assert 0 <= held["macro_f1"] <= 1 and held["n"] >= 50


def test_the_default_bundle_is_sealed_format_2_with_its_trained_weights_and_measured_scores():
    """The shipped file is the training run of 2026-11-27 (generator 2.0, every family,
    training/configs/bundled.yaml): its weight payload, its held-out scores as measured, and the
    leave-one-mechanism-out row of its recipe; the whole file verifies."""
    card = read_card(default_bundle_path())
    assert card.to_dict()["format_version"] == 2 and len(card.bundle_sha256) == 64
    assert card.weights_sha256 == "db08723f6969497e25d7451298922856aeb9ec799dec075fdb8769c0fc786d0f"
    assert card.created == "2026-11-27T18:25:57+00:00"
    assert card.metrics["heldout"]["patient_level"]["macro_f1"] == 0.7023545919464962
    assert card.metrics["heldout"]["recording_level"]["macro_f1"] == 0.5713707792301721
    recipe = card.training_data["recipe"]
    assert recipe["loss"] == "focal" and recipe["aug_variants"] == 1 and recipe["oversample"] == {}
    lomo = card.metrics["lomo"]
    assert lomo["split"]["held_out"]["tracts"] == ["parallel"] and lomo["test_sets"] == 3
    assert lomo["out_of_distribution"]["n"] == 299  # 3 sets of 100 pooled; one patient had no usable recording
    assert lomo["in_distribution"]["macro_f1"] > lomo["out_of_distribution"]["macro_f1"]  # the network's collapse
    measures_ood = lomo["out_of_distribution_praat_measures_alone"]
    assert measures_ood["macro_f1"] == 0.7755002093361811 and measures_ood["per_class"]["1"]["recall"] >= 0.5
    assert min(measures_ood["macro_f1_per_set"]) >= 0.75  # every test set, not only the pooled figure
    assert "fitted on 600 seen-family patients" in lomo["recipe"]  # the recipe's measures, as the bundle's


def test_the_default_bundle_decides_with_its_measures_for_a_reason_it_states():
    """Fused with the rule fixed to the measures classifier (``sand-train fuse --rule measures`` on
    a 900-patient corpus of its own plus the network's 300, 2026-11-28), the held-out scores of all
    three parts in its card."""
    card = read_card(default_bundle_path())
    assert card.fusion["decision"] == "measures" and card.fusion["w_network"] == 0.0
    assert "never heard" in card.fusion["validation"]["fixed_because"]
    assert card.fusion["training"]["patients"] == 1020 and card.fusion["validation"]["patients"] == 180
    assert card.fusion["training"]["more_data"] == [{"data": "synth-train", "patients": 300}]
    assert "across.formant_centralization_ratio" in card.fusion["feature_names"]
    parts = card.metrics["heldout"]["fusion"]
    assert parts["network"]["macro_f1"] == card.metrics["heldout"]["patient_level"]["macro_f1"]
    assert parts["measures"]["macro_f1"] == parts["fusion"]["macro_f1"] == 0.7702358028581525
    shown = parts["measures"]  # the class the window shows: its whole report, as the card dialog lists it first
    assert sum(map(sum, shown["confusion_matrix"])) == shown["n"] == 300
    assert shown["confusion_matrix"][0][0] == 5 and shown["per_class"]["1"]["support"] == 6  # class 1: 5 of 6
    assert round(shown["mean_absolute_error"], 3) == 0.193 and round(shown["quadratic_weighted_kappa"], 3) == 0.916


def test_demo_patients_are_marked_synthetic_and_one_per_class():
    root = demo_dir()
    patients = SandLayout(root).patients()
    assert sorted(p.label for p in patients) == [1, 2, 3, 4, 5]
    meta = json.loads((root / "synthetic.json").read_text())
    assert "synthetic" in json.dumps(meta).lower()
    assert "SYNTHETIC" in (root / "README.md").read_text().upper()


@pytest.fixture(scope="module")
def demo_results():
    out = {}
    for p in SandLayout(demo_dir()).patients():
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "sand_gui.cli",
                "analyze",
                str(demo_dir()),
                "--id",
                p.id,
                "--json",
                "--device",
                "cpu",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        out[p.id] = (p.label, json.loads(proc.stdout))
    return out


def test_analyze_uses_the_bundled_model_on_every_demo_patient(demo_results):
    for _pid, (_, r) in demo_results.items():
        assert r["model"]["file"] == default_bundle_path().name and r["model"]["synthetic"] is True
        assert r["quality_ok"] and not [t for t in r["tasks"] if t["error"]]


def test_analyze_measures_a_dataset_patient_with_the_sex_its_sheet_gives(demo_results):
    """No --sex: the SAND sheet's sex sets Praat's pitch range and formant ceiling. At 8 kHz the
    unknown-sex ceiling (3.5 formants below 4 kHz) misreads a man's /u/: on the healthy demo man
    ID905 it gave F1/F2 733/2255 Hz (F2 and F3); with his sex, 382/1006 Hz, as synthesised."""
    sexes = {p.id: p.sex for p in SandLayout(demo_dir()).patients()}
    assert {pid: r["measures"]["sex"] for pid, (_, r) in demo_results.items()} == sexes
    assert set(sexes.values()) == {"M", "F"}
    u = next(t for t in demo_results["ID905"][1]["measures"]["tasks"] if t["task"] == "phonationU")
    f1, f2 = (next(m["value"] for m in u["measures"] if m["key"] == k) for k in ("f1_hz", "f2_hz"))
    assert f1 < 500 and f2 < 1300, (f1, f2)


def test_the_bundled_model_recognises_most_demo_patients(demo_results):
    """The demo patients sit at their class centres: a working model gets at least 4 of 5."""
    right = sum(r["final_class"] == label for label, r in demo_results.values())
    assert right >= 4, {pid: (label, r["final_class"]) for pid, (label, r) in demo_results.items()}
    shown = {pid: (label, r["patient_class"]) for pid, (label, r) in demo_results.items()}
    assert all(c["decided_by"] == "measures" and not c["waiting_for_measures"] for _, c in shown.values()), shown
    assert sum(c["class"] == label for label, c in shown.values()) >= 4, shown  # the class the window shows
