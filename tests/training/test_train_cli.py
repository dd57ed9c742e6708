"""The sand-train commands end to end on the tiny corpus and the shared tiny run."""

import csv
import json

import pytest
from train_helpers import run_cli

from sand_gui.bundle import read_card
from training.cli import main


def test_evaluate_json_matches_fit_validation(trained, corpus, capsys):
    assert (
        main(
            ["evaluate", "--model", str(trained.bundle), "--data", str(corpus), "--json", "--quiet", "--device", "cpu"]
        )
        == 0
    )
    res = json.loads(capsys.readouterr().out)
    assert res["sheet"] == "Validation Baseline - Task 1" and res["classes"] == [1, 2, 3, 4, 5]
    for level in ("recording_level", "patient_level"):
        assert {"n", "macro_f1", "accuracy", "per_class", "confusion_matrix"} <= set(res[level])
        assert set(res[level]["per_class"]["1"]) == {"precision", "recall", "f1", "support"}
    assert res["patient_level"]["n"] == 5 and res["recording_level"]["n"] == 40
    # the app's Classifier gives what fit's batched validation gave for the best epoch
    card = read_card(trained.bundle)
    for level in ("recording_level", "patient_level"):
        assert res[level]["macro_f1"] == pytest.approx(card.metrics["validation"][level]["macro_f1"])


def test_evaluate_table_and_write_card(trained, corpus, capsys, tmp_path):
    bundle = tmp_path / "m.safetensors"
    bundle.write_bytes(trained.bundle.read_bytes())
    assert (
        main(
            [
                "evaluate",
                "--model",
                str(bundle),
                "--data",
                str(corpus),
                "--sheet",
                "train",
                "--quiet",
                "--device",
                "cpu",
                "--write-card",
                "heldout",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Patient level (majority vote over tasks): macro-F1" in out and "precision" in out
    assert read_card(bundle).metrics["heldout"]["patient_level"]["n"] == 10


def test_predict_writes_a_complete_submission(trained, corpus, tmp_path, capsys):
    out = tmp_path / "sub.csv"
    assert (
        main(
            [
                "predict",
                "--model",
                str(trained.bundle),
                "--data",
                str(corpus),
                "--out",
                str(out),
                "--quiet",
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    rows = list(csv.reader(out.open()))
    # the test workbook writes integer IDs: the submission carries them as written
    assert rows[0] == ["ID", "CLASS"] and [r[0] for r in rows[1:]] == ["16", "17", "18"]
    assert all(r[1] in "12345" for r in rows[1:])


def test_preprocess_then_fit_reuses_the_cache(corpus, tmp_path, tiny_config, capsys):
    cache = tmp_path / "cache"
    assert (
        main(["preprocess", "--data", str(corpus), "--cache", str(cache), "--config", str(tiny_config), "--quiet"]) == 0
    )
    assert "(144 computed, 0 reused, 0 skipped)" in capsys.readouterr().out
    assert (
        main(["preprocess", "--data", str(corpus), "--cache", str(cache), "--config", str(tiny_config), "--quiet"]) == 0
    )
    assert "(0 computed, 144 reused, 0 skipped)" in capsys.readouterr().out


def test_python_dash_m_training_runs_fit(tiny_config, tmp_path):
    done = run_cli("fit", "--config", str(tiny_config), "--set", "epochs=1", f"run_dir={tmp_path / 'r'}", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("model.safetensors") and (tmp_path / "r/model.safetensors").is_file()


def test_synth_wrapper_writes_a_sand_layout(tmp_path, capsys):
    from sand_gui.dataset import SandLayout

    assert main(["synth", str(tmp_path / "s"), "--patients", "5", "--seed", "3", "--id-offset", "500", "--quiet"]) == 0
    patients = SandLayout(tmp_path / "s").patients()
    assert len(patients) == 5 and patients[0].id.startswith("ID50")


def test_synth_help_documents_every_option(capsys):
    from training.cli import _parser

    synth = next(a for a in _parser()._subparsers._group_actions[0].choices.items() if a[0] == "synth")[1]
    options = [a for a in synth._actions if a.dest != "help"]
    assert {a.dest for a in options} >= {
        "out",
        "patients",
        "seed",
        "sample_rate",
        "class_priors",
        "id_offset",
        "workers",
        "quiet",
    }
    undocumented = [a.dest for a in options if not (a.help or "").strip()]
    assert not undocumented
    with pytest.raises(SystemExit) as done:
        main(["synth", "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for a in options:
        assert all(flag in text for flag in a.option_strings)
    assert "SYNTHETIC" in text and "6/26/57/76/107" in text


def test_synth_progress_shows_patients_per_second(tmp_path, capsys):
    import re

    assert main(["synth", str(tmp_path / "s"), "--patients", "3", "--seed", "1"]) == 0
    err = capsys.readouterr().err
    summary = re.search(r"3 patients, 24 files, .* in ([0-9.]+) s \(([0-9.]+) patients/s\)", err)
    assert summary, err
    elapsed, rate = float(summary.group(1)), float(summary.group(2))
    # the time is printed to 0.1 s, so the rate agrees with it within that rounding
    assert 3 / (elapsed + 0.05) * 0.99 <= rate <= 3 / max(elapsed - 0.05, 0.01) * 1.01
    bar_rates = [float(r) for r in re.findall(r"([0-9.]+) patients/s\]", err)]
    assert bar_rates and "s/patient" not in err and "it/s" not in err
    # the bar's rate is the run's average since the bar started (a little set-up included), never a
    # burst of patients finishing together (this once read "2079 patient/s")
    assert 0 < bar_rates[-1] <= rate * 1.5
