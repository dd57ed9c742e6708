import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from sandtest import vowel

from sand_gui.dataset import collect_recordings
from sand_gui.model import Classifier, resolve_device
from sand_gui.pipeline import analyze
from sand_gui.tasks import TASK_IDS


@pytest.fixture(scope="module")
def clf(tiny_bundle):
    return Classifier.from_file(tiny_bundle, device="cpu")


def test_eight_tasks_give_votes_and_a_final_class(patient_dir, clf):
    recs = collect_recordings(patient_dir)
    assert list(recs) == list(TASK_IDS)
    seen = []
    r = analyze(recs, clf, progress=lambda i, n, t: seen.append((i, n)))
    assert seen[0] == (0, 8) and seen[-1] == (8, 8)
    assert r.n_valid == 8 and r.quality_ok and not r.missing_tasks
    assert sum(r.verdict.votes.values()) == 8
    assert r.verdict.final_class in (1, 2, 3, 4, 5)
    for t in r.tasks:
        assert abs(sum(t.probabilities.values()) - 1) < 1e-5
        assert t.predicted_class == max(t.probabilities, key=t.probabilities.get)
        assert 2.3 < t.trimmed_seconds < 2.8
    # the same recordings give the same answer
    assert analyze(recs, clf).to_dict()["tasks"][0]["probabilities"] == r.to_dict()["tasks"][0]["probabilities"]


def test_bad_and_missing_tasks_are_reported_not_fatal(patient_dir, clf):
    sf.write(patient_dir / "ID042_rhythmKA.wav", np.zeros(8000, dtype=np.float32), 8000)
    (patient_dir / "ID042_phonationU.wav").unlink()
    r = analyze(collect_recordings(patient_dir), clf)
    bad = {t.task: t for t in r.tasks if t.error}
    assert list(bad) == ["rhythmKA"] and bad["rhythmKA"].error.startswith("ID042_rhythmKA.wav: ")
    assert bad["rhythmKA"].error_code in ("silent", "no_voice")  # code that reacts reads the code
    assert r.missing_tasks == ["phonationU"]
    assert r.n_valid == 6 and r.verdict.n_voting == 6 and r.quality_ok


def test_quality_gate_below_five_usable_tasks(patient_dir, clf):
    recs = {k: v for k, v in collect_recordings(patient_dir).items() if k in TASK_IDS[:3]}
    r = analyze(recs, clf)
    assert r.verdict is not None and not r.quality_ok
    assert "quality too low for a verdict" in r.quality_message and "rhythmKA" in r.quality_message


def test_input_at_any_rate_is_accepted(tmp_path, clf):
    sf.write(tmp_path / "P1_phonationA.wav", vowel(2.0, sr=48000), 48000, subtype="PCM_24")
    r = analyze(collect_recordings(tmp_path), clf)
    assert r.tasks[0].ok


def test_device_resolution_on_a_cpu_machine():
    d = resolve_device("auto")
    assert d.device in ("cpu", "cuda")
    assert resolve_device("cpu").device == "cpu"


def test_cli_json_schema_end_to_end(patient_dir, tiny_bundle):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sand_gui.cli",
            "analyze",
            str(patient_dir),
            "--model",
            str(tiny_bundle),
            "--device",
            "cpu",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert {
        "schema_version",
        "tasks",
        "votes",
        "final_class",
        "final_label",
        "tie_broken",
        "tie_rule",
        "model",
        "device",
        "elapsed_ms",
        "quality_ok",
    } <= set(d)
    assert [t["task"] for t in d["tasks"]] == list(TASK_IDS)
    assert set(d["tasks"][0]) == {
        "task",
        "file",
        "class",
        "probabilities",
        "trimmed_seconds",
        "voiced_samples",
        "warnings",
        "warning_codes",
        "error",
        "error_code",
        "sha256",
    }
    assert d["schema_version"] == 2 and d["feature_spec"]["n_mels"] == 64 and d["analysed_at"]
    assert sum(d["votes"].values()) == 8
    assert d["model"]["architecture"] == "convnext_atto" and d["model"]["synthetic"] is True


def test_cli_table_and_sand_layout_with_id(tmp_path, tiny_bundle):
    for t in TASK_IDS:
        (tmp_path / "training" / t).mkdir(parents=True)
        sf.write(tmp_path / "training" / t / f"ID007_{t}.wav", vowel(1.5), 8000, subtype="PCM_16")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sand_gui.cli",
            "analyze",
            str(tmp_path),
            "--id",
            "7",
            "--model",
            str(tiny_bundle),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        "Final class:" in proc.stdout
        and "ALSFRS-R" in proc.stdout
        and "SYNTHETIC" in proc.stdout
        and "rhythmKA" in proc.stdout
    )


def test_a_cuda_failure_falls_back_to_the_cpu_and_says_so(patient_dir, tiny_bundle):
    """On this machine CUDA really fails (the CUDA build of torch finds no driver): a
    classifier told to use it must still answer, on the CPU, and say what happened."""
    import torch

    from sand_gui.model import DeviceChoice

    if torch.cuda.is_available():
        pytest.skip("a working GPU is present: the failure cannot be produced this way")
    clf = Classifier.from_file(tiny_bundle, device="cpu")
    expected = analyze(collect_recordings(patient_dir), clf).to_dict()
    clf.device = DeviceChoice("cuda", "a GPU that is not there")
    r = analyze(collect_recordings(patient_dir), clf)
    assert "CUDA failed" in r.device_note and "this analysis ran on the CPU" in r.device_note
    assert r.to_dict()["tasks"] == expected["tasks"] and r.verdict.final_class == expected["final_class"]
    assert clf.device.device == "cpu" and "CUDA failed" in clf.device.note  # the next analysis stays on the CPU


def test_demanding_cuda_without_it_is_one_clear_error(patient_dir, tiny_bundle):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sand_gui.cli",
            "analyze",
            str(patient_dir),
            "--model",
            str(tiny_bundle),
            "--device",
            "cuda",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 2 and proc.stderr.strip() == "sand-gui: CUDA was requested but no CUDA device is present."


def test_cli_table_gives_no_final_class_below_the_quality_gate(patient_dir, tiny_bundle):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sand_gui.cli",
            "analyze",
            str(patient_dir / "ID042_rhythmPA.wav"),
            "--model",
            str(tiny_bundle),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Final class" not in proc.stdout
    assert (
        "Recording quality too low for a verdict: 1 of 8 tasks usable" in proc.stdout
        and "(not a verdict)" in proc.stdout
    )
