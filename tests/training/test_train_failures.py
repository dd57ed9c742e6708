"""Bad input: one line on stderr, exit status 2; unusable recordings skipped and listed."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest
import yaml

from sand_gui.dataset import TRAIN_SHEET, WORKBOOK
from training.cli import main

REPO = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize(
    "args, message",
    [
        (["--set", "epochs=two"], "whole number"),
        (["--set", "colour=red"], "unknown key"),
    ],
)
def test_bad_config(tiny_config, args, message, capsys):
    assert main(["fit", "--config", str(tiny_config), *args, "--dry-run"]) == 2
    assert message in one_error(capsys)


def test_missing_config(tmp_path, capsys):
    assert main(["fit", "--config", str(tmp_path / "x.yaml")]) == 2
    assert "config file not found" in one_error(capsys)


def test_unreadable_wav_is_skipped_and_listed(trained, copy, capsys):
    (copy / "training/phonationA/ID011_phonationA.wav").write_bytes(b"not a wav at all")
    (copy / "training/rhythmKA/ID012_rhythmKA.wav").unlink()
    assert (
        main(["evaluate", "--model", str(trained.bundle), "--data", str(copy), "--quiet", "--json", "--device", "cpu"])
        == 0
    )
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
    assert "already holds a finished run" in one_error(capsys)


def test_an_unfinished_run_with_another_config_points_to_resume(tiny_config, tmp_path, capsys):
    from training.config import load_config
    from training.loop import fit

    fit(load_config(tiny_config, [f"run_dir={tmp_path / 'run'}", "epochs=2"]), stop_after=1)
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={tmp_path / 'run'}", "lr=0.01"]) == 2
    assert (
        f"already holds an unfinished run with another config; resume it with --resume {tmp_path / 'run'}"
        in one_error(capsys)
    )


def test_a_damaged_checkpoint_is_one_sentence_and_the_folder_is_reused(tiny_config, tmp_path, capsys):
    from training.config import load_config
    from training.loop import fit

    run = tmp_path / "run"
    fit(load_config(tiny_config, [f"run_dir={run}", "epochs=2"]), stop_after=1)
    ckpt = run / "checkpoints/last.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])  # what no atomic write leaves, but a disk can
    assert main(["fit", "--resume", str(run), "--quiet"]) == 2
    assert f"{ckpt}: not a usable checkpoint" in one_error(capsys)
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={run}", "epochs=2", "--quiet"]) == 0
    assert (run / "model.safetensors").is_file()


def test_a_folder_of_other_files_is_not_taken_as_a_run(tiny_config, tmp_path, capsys):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={tmp_path / 'mine'}"]) == 2
    assert "holds other files and no run" in one_error(capsys)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"


# --- the operating system says no: full disk, read-only, not a folder, permission, closed pipe ---


@contextlib.contextmanager
def tmpfs(path, *, size: str, read_only: bool = False):
    """A real tmpfs of ``size`` at ``path`` (we run as root); skips when mounting is impossible."""
    path.mkdir(parents=True, exist_ok=True)
    options = f"size={size}" + (",ro" if read_only else "")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and mount rights): {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_is_one_sentence_and_the_run_resumes_to_the_same_weights(
    trained, corpus, cache_dir, tmp_path, capsys
):
    """The disk fills while the second epoch's checkpoint is written: one sentence naming the file,
    no temporary file left, the first checkpoint intact; with space again the same command ends
    the run with the very weights of the uninterrupted run."""
    from safetensors.torch import load_file
    from train_helpers import write_config

    with tmpfs(tmp_path / "small", size="1600k") as disk:
        run = disk / "run"
        config = write_config(tmp_path / "tiny.yaml", data=str(corpus), cache=str(cache_dir), run_dir=str(run))
        assert main(["fit", "--config", str(config), "--quiet"]) == 2
        assert (
            one_error(capsys)
            == f"sand-train: error: {run / 'checkpoints/last.safetensors'}: no space left on the device."
        )
        assert not list(run.rglob("*.part*"))
        assert [json.loads(x)["epoch"] for x in (run / "log.jsonl").read_text().splitlines()] == [1]
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        assert main(["fit", "--config", str(config), "--quiet"]) == 0
        capsys.readouterr()
        mine, theirs = load_file(str(run / "model.safetensors")), load_file(str(trained.bundle))
        assert {k: v.numpy().tobytes() for k, v in mine.items()} == {k: v.numpy().tobytes() for k, v in theirs.items()}


def test_a_read_only_folder_is_one_sentence(tiny_config, tmp_path, capsys):
    with tmpfs(tmp_path / "ro", size="1m", read_only=True) as disk:
        assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={disk / 'run'}", "--quiet"]) == 2
        assert one_error(capsys) == f"sand-train: error: {disk / 'run/checkpoints'}: the file system is read-only."


def test_a_read_only_run_folder_named_with_a_newline_stays_on_one_line(tiny_config, tmp_path, capsys):
    with tmpfs(tmp_path / "ro", size="1m", read_only=True) as disk:
        config = yaml.safe_load(tiny_config.read_text()) | {"run_dir": f"{disk}/a\nb"}  # a real newline
        (tmp_path / "nl.yaml").write_text(yaml.safe_dump(config))
        assert main(["fit", "--config", str(tmp_path / "nl.yaml"), "--quiet"]) == 2
        assert one_error(capsys) == f"sand-train: error: {disk}/a\\nb/checkpoints: the file system is read-only."


def test_a_file_where_a_folder_should_be_is_one_sentence(tiny_config, tmp_path, capsys):
    (tmp_path / "plain").write_text("x")
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={tmp_path / 'plain' / 'run'}", "--quiet"]) == 2
    assert (
        one_error(capsys)
        == f"sand-train: error: {tmp_path / 'plain/run/checkpoints'}: a part of the path is not a folder."
    )
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={tmp_path / 'plain'}", "--quiet"]) == 2
    assert "run_dir is a file, not a folder" in one_error(capsys)


@pytest.mark.slow  # a fresh interpreter as another user: the imports cost 10 s or more
def test_permission_denied_is_one_sentence(tiny_config, tmp_path):
    """Root writes anywhere, so the command runs as the user nobody into a folder of root's."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        pytest.skip("needs root and setpriv (util-linux) to run a command as the user nobody")
    closed = [p for p in (REPO, *REPO.parents) if not p.stat().st_mode & 0o001]  # others may not enter it
    if closed or not REPO.stat().st_mode & 0o004:
        pytest.skip(f"the user nobody cannot read this checkout ({closed[0] if closed else REPO} is closed to others)")
    shared = Path(tempfile.mkdtemp(prefix="sand-perm-"))
    try:
        shared.chmod(0o755)
        config = shared / "tiny.yaml"
        config.write_text(tiny_config.read_text())
        config.chmod(0o644)
        env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(shared))
        done = subprocess.run(
            [
                setpriv,
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                sys.executable,
                "-m",
                "training",
                "fit",
                "--config",
                str(config),
                "--set",
                f"run_dir={shared / 'run'}",
                "--quiet",
            ],
            cwd=shared,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip() == f"sand-train: error: {shared / 'run/checkpoints'}: permission denied."
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_a_closed_pipe_is_one_sentence(tmp_path):
    """``sand-train ... | head`` where the reader has already left: no BrokenPipeError traceback."""
    read, write = os.pipe()
    os.close(read)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "training",
                "synth",
                str(tmp_path / "c"),
                "--patients",
                "1",
                "--seed",
                "1",
                "--quiet",
            ],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            cwd=REPO,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        os.close(write)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "sand-train: error: standard output: the reader closed the pipe.", done.stderr


def test_missing_imagenet_weights_say_so(tiny_config, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hub"))
    assert (
        main(
            [
                "fit",
                "--config",
                str(tiny_config),
                "--set",
                "init_weights=imagenet",
                f"run_dir={tmp_path / 'r'}",
                "--quiet",
            ]
        )
        == 2
    )
    assert "not in the local Hugging Face cache" in one_error(capsys)


def test_a_full_disk_during_synth_leaves_no_truncated_wav(tmp_path, capsys):
    """The issue's case: after a full disk a truncated WAV that still reads as audio was left behind."""
    import soundfile as sf

    with tmpfs(tmp_path / "small", size="160k") as disk:
        out = disk / "corpus"
        assert main(["synth", str(out), "--patients", "3", "--seed", "1", "--quiet"]) == 2
        line = one_error(capsys)
        assert line.startswith(f"sand-train: error: {out}/") and line.endswith(": no space left on the device."), line
        wavs = list(out.rglob("*.wav"))
        assert not list(out.rglob("*.part*")) and not (out / "synthetic.json").exists()
        for wav in wavs:  # whatever is there is whole: its header's frame count matches its size
            info = sf.info(str(wav))
            assert wav.stat().st_size == 44 + 2 * info.frames * info.channels, wav
        subprocess.run(["mount", "-o", "remount,size=64m", str(disk)], check=True)
        assert main(["synth", str(out), "--patients", "3", "--seed", "1", "--quiet"]) == 0  # the same folder again
        assert (out / "synthetic.json").is_file() and len(list(out.rglob("*.wav"))) == 3 * 8


def test_a_run_killed_while_writing_its_first_file_is_reused(tiny_config, tmp_path, capsys):
    """A kill inside the very first write leaves only a temporary (``config.part-<pid>.yaml``) and
    perhaps an empty ``checkpoints/``: the same command must take the folder, not call it
    "other files" (found by the kill -9 test), and the temporary must be gone afterwards."""
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.part-7649.yaml").write_text("name: half-writ")
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={run}", "--dry-run"]) == 0
    assert "other files" not in capsys.readouterr().err
    (run / "thesis.tex").write_text("precious")  # but a real file still makes it someone else's folder
    assert main(["fit", "--config", str(tiny_config), "--set", f"run_dir={run}"]) == 2
    assert "holds other files and no run" in one_error(capsys)
