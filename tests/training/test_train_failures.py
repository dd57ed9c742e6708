"""Bad input: one line on stderr, exit status 2; unusable recordings skipped and listed."""

import shutil

import openpyxl
import pytest

from sand_gui.dataset import TRAIN_SHEET, WORKBOOK
from training.cli import main


def one_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("sand-train: error:")]
    assert len(errors) == 1 and err[-1] == errors[0] and not any("Traceback" in l for l in err), err
    return errors[0]


@pytest.fixture
def copy(corpus, tmp_path):
    return shutil.copytree(corpus, tmp_path / "copy")


def test_missing_data_folder(trained, tmp_path, capsys):
    assert main(["evaluate", "--model", str(trained.bundle), "--data", str(tmp_path / "nope"), "--quiet"]) == 2
    assert "dataset folder not found" in one_error(capsys)


def test_missing_bundle(corpus, tmp_path, capsys):
    assert main(["evaluate", "--model", str(tmp_path / "none.safetensors"), "--data", str(corpus)]) == 2
    assert "model bundle not found" in one_error(capsys)


def test_missing_sheet(tiny_config, capsys):
    assert main(["fit", "--config", str(tiny_config), "--set", "train_sheet=Nope", "--quiet"]) == 2
    assert "no sheet 'Nope'" in one_error(capsys)


def test_missing_workbook(tiny_config, copy, capsys):
    (copy / WORKBOOK).unlink()
    assert main(["fit", "--config", str(tiny_config), "--set", f"data={copy}", "cache=null", "--dry-run"]) == 2
    assert "sand_task_1.xlsx: workbook not found" in one_error(capsys)


def test_unknown_class(tiny_config, copy, capsys):
    wb = openpyxl.load_workbook(copy / WORKBOOK)
    wb[TRAIN_SHEET]["D2"] = 7
    wb.save(copy / WORKBOOK)
    assert main(["fit", "--config", str(tiny_config), "--set", f"data={copy}", "--dry-run"]) == 2
    assert "unknown class 7" in one_error(capsys)


def test_patient_in_two_splits(tiny_config, capsys):
    assert main(["fit", "--config", str(tiny_config), "--set", "val_sheet=training", "--dry-run"]) == 2
    assert "splits must be by patient" in one_error(capsys)


@pytest.mark.parametrize("args, message", [
    (["--set", "epochs=two"], "whole number"), (["--set", "colour=red"], "unknown key"),
])
def test_bad_config(tiny_config, args, message, capsys):
    assert main(["fit", "--config", str(tiny_config), *args, "--dry-run"]) == 2
    assert message in one_error(capsys)


def test_missing_config(tmp_path, capsys):
    assert main(["fit", "--config", str(tmp_path / "x.yaml")]) == 2
    assert "config file not found" in one_error(capsys)


def test_unreadable_wav_is_skipped_and_listed(trained, copy, capsys):
    (copy / "training/phonationA/ID011_phonationA.wav").write_bytes(b"not a wav at all")
    (copy / "training/rhythmKA/ID012_rhythmKA.wav").unlink()
    assert main(["evaluate", "--model", str(trained.bundle), "--data", str(copy), "--quiet", "--json", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    assert "skipped: ID011 phonationA: ID011_phonationA.wav: not a readable audio file" in err
    assert "skipped: ID012 rhythmKA: recording not found" in err


def test_incomplete_submission_is_refused(trained, copy, tmp_path, capsys):
    shutil.rmtree(copy / "test")
    out = tmp_path / "sub.csv"
    assert main(["predict", "--model", str(trained.bundle), "--data", str(copy), "--out", str(out), "--quiet"]) == 2
    assert "submission would be incomplete" in one_error(capsys) and not out.exists()


def test_resume_needs_a_run_folder(tmp_path, capsys):
    assert main(["fit", "--resume", str(tmp_path)]) == 2
    assert "not a run folder" in one_error(capsys)


def test_run_dir_is_never_overwritten(trained, tiny_config, capsys):
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={trained.run_dir}"]) == 2
    assert "already holds a run" in one_error(capsys)


def test_missing_imagenet_weights_say_so(tiny_config, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    assert main(["fit", "--config", str(tiny_config), "--set", "init_weights=imagenet", f"run_dir={tmp_path / 'r'}", "--quiet"]) == 2
    assert "not in the local Hugging Face cache" in one_error(capsys)
