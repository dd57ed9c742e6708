"""Bad input: each gives one sentence that names the file and the reason, never a traceback."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from sand_gui.audio import load_recording
from sand_gui.errors import AudioError
from sand_gui.features import prepare_input
from sand_gui.tasks import get_task

from sandtest import TEST_SPEC, vowel


def _write(tmp_path, name, data, sr=8000, subtype="FLOAT"):
    path = tmp_path / name
    sf.write(path, data, sr, subtype=subtype)
    return path


CASES = {
    "not audio": (lambda p: (p / "ID1_phonationA.wav").write_text("hello, not a wave"), "not a readable audio file"),
    "empty file": (lambda p: (p / "ID1_phonationA.wav").write_bytes(b""), "not a readable audio file"),
    "zero frames": (lambda p: _write(p, "ID1_phonationA.wav", np.zeros(0, dtype=np.float32)), "no audio (0 frames)"),
    "nan": (lambda p: _write(p, "ID1_phonationA.wav", np.r_[vowel(1.0), np.nan].astype(np.float32)), "1 NaN or infinite samples"),
    "inf": (lambda p: _write(p, "ID1_phonationA.wav", np.r_[np.inf, vowel(1.0)].astype(np.float32)), "NaN or infinite"),
    "digital silence": (lambda p: _write(p, "ID1_phonationA.wav", np.zeros(8000, dtype=np.float32), subtype="PCM_16"), "no voice found (digital silence)"),
    "near silence": (lambda p: _write(p, "ID1_phonationA.wav", 1e-6 * np.ones(8000, dtype=np.float32)), "no voice found (peak -120 dBFS)"),
    "absurd rate low": (lambda p: _write(p, "ID1_phonationA.wav", vowel(1.0), sr=1000), "sample rate 1000 Hz is outside"),
    "absurd rate high": (lambda p: _write(p, "ID1_phonationA.wav", vowel(1.0), sr=768000), "sample rate 768000 Hz is outside"),
    "missing": (lambda p: None, "file not found"),
    "folder": (lambda p: (p / "ID1_phonationA.wav").mkdir(), "is a folder"),
    "truncated wav": (lambda p: (p / "ID1_phonationA.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "), "not a readable audio file"),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_gives_one_sentence_naming_it(tmp_path, case):
    make, reason = CASES[case]
    make(tmp_path)
    with pytest.raises(AudioError) as info:
        load_recording(tmp_path / "ID1_phonationA.wav", sample_rate=8000)
    msg = str(info.value)
    assert msg.startswith("ID1_phonationA.wav: ")
    assert reason in msg
    assert "\n" not in msg and "Traceback" not in msg


def test_too_short_after_trimming(tmp_path):
    path = _write(tmp_path, "ID1_rhythmPA.wav", vowel(0.3, lead=1.0))
    rec = load_recording(path, sample_rate=8000)
    with pytest.raises(AudioError, match=r"^ID1_rhythmPA.wav: 0\.\d\d s of voice after trimming; at least 0.5 s is needed\.$"):
        prepare_input(rec.samples, spec=TEST_SPEC, task=get_task("rhythmPA"), name=path.name)


@pytest.mark.parametrize("case", ["not audio", "digital silence", "absurd rate low"])
def test_cli_prints_one_line_and_exits_2(tmp_path, tiny_bundle, case):
    CASES[case][0](tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "sand_gui.cli", "analyze", str(tmp_path / "ID1_phonationA.wav"), "--model", str(tiny_bundle), "--device", "cpu"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ID1_phonationA.wav" in lines[0] and CASES[case][1] in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize("args, reason", [
    (["analyze", "/no/such/folder"], "no such file or folder"),
    (["analyze", "{tmp}/x.wav", "--model", "{tmp}/missing.safetensors"], "missing.safetensors: model bundle not found"),
    (["analyze", "{tmp}"], "no audio file named after a task"),
    (["card", "{tmp}/x.wav"], "x.wav: not a safetensors bundle"),
])
def test_cli_usage_errors(tmp_path, args, reason):
    sf.write(tmp_path / "x_phonationA.wav", vowel(1.0), 8000)
    (tmp_path / "x.wav").write_bytes(b"\x00" * 7 + b"\x7f" * 20)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    if args[0] == "analyze" and args[1].endswith("x.wav"):
        args[1] = str(tmp_path / "x_phonationA.wav")
    if args == ["analyze", str(tmp_path)]:
        (tmp_path / "x_phonationA.wav").unlink()
    proc = subprocess.run([sys.executable, "-m", "sand_gui.cli", *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and reason in proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="DISPLAY/WAYLAND_DISPLAY are Linux's")
def test_gui_without_a_display_says_so_in_one_line():
    import os

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.run([sys.executable, "-m", "sand_gui.cli"], capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2 and proc.stderr.strip().startswith("sand-gui: no display found")
    assert len(proc.stderr.strip().splitlines()) == 1
