"""``sand-gui analyze`` on bad luck and bad input: one line, exit 2; quiet on a closed pipe.

Most cases run ``cli.main`` in this process (torch is imported once); the broken pipe and
one end-to-end run use real subprocesses. Full and read-only disks are real tmpfs mounts
(we run as root in CI; the tests skip, saying why, where mounting is impossible).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sandtest import task_signal, vowel

from sand_gui.audio import load_recording
from sand_gui.cli import EXIT_BROKEN_PIPE, main
from sand_gui.errors import AudioError
from sand_gui.tasks import TASK_IDS


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("sand-gui: ")
    return err.strip()


@contextlib.contextmanager
def tmpfs(folder: Path, *options: str):
    """A real tmpfs at ``folder`` (``size=64k``, ``ro``, ...), unmounted afterwards."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", ",".join(options) or "size=1m", "none", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'mount failed'}); needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill(folder: Path) -> None:
    """Fill a small file system to the last byte."""
    with open(folder / "filler", "wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)


def test_a_single_file_without_voice_is_its_sentence_and_exit_2(tmp_path, tiny_bundle, capsys):
    f = tmp_path / "ID042_phonationA.wav"
    sf.write(f, np.zeros(8000, np.float32), 8000, subtype="PCM_16")
    with pytest.raises(AudioError) as refused:  # the loader's own sentence, whatever its wording
        load_recording(f, sample_rate=8000)
    code, out, err = run(capsys, "analyze", f, "--model", tiny_bundle, "--device", "cpu")
    assert code == 2 and out == ""
    assert one_line_error(err) == f"sand-gui: {refused.value}" and str(refused.value).startswith(
        "ID042_phonationA.wav: "
    )


def test_error_text_is_one_line_whatever_the_file_name_holds(tmp_path, tiny_bundle, capsys):
    f = tmp_path / "ID042 bad\nname\r\x1b[31m_phonationA.wav"
    sf.write(f, np.zeros(8000, np.float32), 8000, subtype="PCM_16")
    code, _, err = run(capsys, "analyze", f, "--model", tiny_bundle, "--device", "cpu")
    line = one_line_error(err)
    assert code == 2 and "\\n" in line and "\\x1b" in line and "\x1b" not in line and "\r" not in line
    code, _, err = run(capsys, "analyze", tmp_path / "no\nsuch_phonationA.wav", "--model", tiny_bundle)
    assert code == 2 and "no\\nsuch" in one_line_error(err)
    with pytest.raises(SystemExit) as exit_:  # argparse's own errors too
        main(["analyze", str(f), "--task", "phonation\nX"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "phonation\\nX" in one_line_error(err.replace("sand-gui analyze:", "sand-gui:", 1))


def test_several_patients_in_a_folder_ask_for_id(tmp_path, tiny_bundle, capsys):
    for pid in ("ID001", "ID002"):
        for t in TASK_IDS[:2]:
            sf.write(tmp_path / f"{pid}_{t}.wav", vowel(1.0), 8000, subtype="PCM_16")
    code, out, err = run(capsys, "analyze", tmp_path, "--model", tiny_bundle, "--device", "cpu")
    line = one_line_error(err)
    assert code == 2 and out == "" and "ID001" in line and "ID002" in line


@pytest.mark.parametrize("pid", ["ID90*", "ID9?0", "ID[9]00", "../ID900", "ID900/x", "ID9 00"])
def test_id_is_a_literal_never_a_pattern(tmp_path, tiny_bundle, capsys, pid):
    for t in TASK_IDS:
        (tmp_path / "training" / t).mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / "training" / t / f"ID900_{t}.wav", vowel(1.0), 8000, subtype="PCM_16")
    code, out, err = run(capsys, "analyze", tmp_path, "--id", pid, "--model", tiny_bundle, "--device", "cpu")
    line = one_line_error(err)
    assert code == 2 and out == "" and "is not a patient ID" in line and "literally" in line


def test_json_is_strict_even_for_float_extremes(tmp_path, tiny_bundle, capsys):
    """Astronomically large float samples (legal in the format): a finite, strict result or a refusal."""
    for i, t in enumerate(TASK_IDS):
        x = task_signal(t, seed=i).astype(np.float32) * np.float32(1e30)
        sf.write(tmp_path / f"ID042_{t}.wav", x, 8000, subtype="FLOAT")
    code, out, err = run(capsys, "analyze", tmp_path, "--model", tiny_bundle, "--device", "cpu", "--json")
    if code == 0:

        def bad(name):
            raise AssertionError(f"{name} in the JSON output")

        d = json.loads(out, parse_constant=bad)
        for t in d["tasks"]:
            assert t["error"] or all(0 <= p <= 1 for p in t["probabilities"].values())
    else:
        assert code == 2 and out == "" and one_line_error(err)


def test_report_on_a_read_only_file_system_is_one_sentence(tmp_path, tiny_bundle, patient_dir, capsys):
    with tmpfs(tmp_path / "ro", "ro", "size=1m") as ro:
        code, out, err = run(
            capsys, "analyze", patient_dir, "--model", tiny_bundle, "--device", "cpu", "--report", ro / "ID042_report"
        )
        line = one_line_error(err)
        assert code == 2 and out == ""
        assert line == f"sand-gui: {ro / 'ID042_report.pdf'}: the file system is read-only."


def test_report_on_a_full_disk_names_the_file_and_leaves_nothing_half_written(
    tmp_path, tiny_bundle, patient_dir, capsys
):
    with tmpfs(tmp_path / "full", "size=64k") as full:
        (full / "ID042_report.pdf").write_bytes(b"%PDF- an older report that must survive")
        fill(full)
        code, out, err = run(
            capsys, "analyze", patient_dir, "--model", tiny_bundle, "--device", "cpu", "--report", full / "ID042_report"
        )
        line = one_line_error(err)
        assert code == 2 and out == ""
        assert line == f"sand-gui: {full / 'ID042_report.pdf'}: no space left on the device."
        assert sorted(p.name for p in full.iterdir()) == ["ID042_report.pdf", "filler"]  # no temporary file left
        assert (full / "ID042_report.pdf").read_bytes() == b"%PDF- an older report that must survive"


def test_output_to_a_full_disk_names_the_file(tmp_path, tiny_bundle, patient_dir, capsys, monkeypatch):
    with tmpfs(tmp_path / "full", "size=64k") as full:
        fill(full)
        with open(full / "out.json", "w") as target:
            monkeypatch.setattr(sys, "stdout", target)
            code = main(["analyze", str(patient_dir), "--model", str(tiny_bundle), "--device", "cpu", "--json"])
            monkeypatch.undo()
        err = capsys.readouterr().err
        assert code == 2 and one_line_error(err) == f"sand-gui: {full / 'out.json'}: no space left on the device."


def test_a_report_where_a_folder_is_a_file(tmp_path, tiny_bundle, patient_dir, capsys):
    (tmp_path / "afile").write_text("not a folder")
    code, out, err = run(
        capsys,
        "analyze",
        patient_dir,
        "--model",
        tiny_bundle,
        "--device",
        "cpu",
        "--report",
        tmp_path / "afile" / "ID042_report",
    )
    assert code == 2 and out == ""
    assert one_line_error(err) == f"sand-gui: {tmp_path / 'afile'}: is a file, not a folder."


def test_report_option_writes_four_files(tmp_path, tiny_bundle, patient_dir, capsys):
    code, out, err = run(
        capsys,
        "analyze",
        patient_dir,
        "--model",
        tiny_bundle,
        "--device",
        "cpu",
        "--report",
        tmp_path / "out" / "ID042",
    )
    assert code == 0 and "Final class" in out and err == ""
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "ID042.csv",
        "ID042.json",
        "ID042.pdf",
        "ID042_patient.csv",
    ]


def closed_pipe_run(*argv: str) -> tuple[int, str]:
    """Run ``sand-gui`` whose reader is gone before the output is written (``… | head``)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sand_gui.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()  # as `head` does once it has what it wants
    err = proc.stderr.read().decode()
    return proc.wait(timeout=300), err


def test_a_closed_pipe_ends_quietly(tiny_bundle):
    code, err = closed_pipe_run("card", str(tiny_bundle))
    assert code == EXIT_BROKEN_PIPE and err == ""  # no BrokenPipeError, no "Exception ignored"


@pytest.mark.slow
def test_analyze_into_a_closed_pipe_ends_quietly(patient_dir, tiny_bundle):
    code, err = closed_pipe_run("analyze", str(patient_dir), "--model", str(tiny_bundle), "--device", "cpu", "--json")
    assert code == EXIT_BROKEN_PIPE and err == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder: a permission error cannot be produced as root")
def test_an_unreadable_folder_is_one_sentence(tmp_path, tiny_bundle, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        code, out, err = run(capsys, "analyze", locked, "--model", tiny_bundle, "--device", "cpu")
    finally:
        locked.chmod(0o700)
    assert code == 2 and out == "" and one_line_error(err) == f"sand-gui: {locked}: permission denied."
