"""Bad input: each gives one sentence that names the file and the reason, never a traceback,
and carries a ``quality.Code``; every code has a producer here and a flag in ``quality.FLAGS``."""

import struct
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from sandtest import TEST_SPEC, vowel

from sand_gui.audio import MAX_CHANNELS, MAX_SECONDS, load_recording
from sand_gui.errors import AudioError
from sand_gui.features import prepare_input, trim
from sand_gui.quality import FLAGS, REJECTIONS, WARNINGS, Code, Note, codes, flags
from sand_gui.tasks import get_task

NAME = "ID1_phonationA.wav"


def _write(tmp_path, name, data, sr=8000, subtype="FLOAT"):
    path = tmp_path / name
    sf.write(path, data, sr, subtype=subtype)
    return path


def wav_header(*, channels=1, rate=8000, bits=16, tag=1, data_bytes=0) -> bytes:
    """A canonical 44-byte RIFF/WAVE header that claims whatever it is told."""
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def _sparse_many_channels(p):
    path = p / NAME
    with open(path, "wb") as fh:
        fh.write(wav_header(channels=1024, data_bytes=2**31))
        fh.truncate(4096)  # 4 KB on disk; the header claims 2 GB of 1024-channel audio
    return path


# case -> (make the file in tmp_path, text the sentence must hold, code)
CASES = {
    "not audio": (lambda p: (p / NAME).write_text("hello, not a wave"), "not a readable audio file", Code.UNREADABLE),
    "empty file": (lambda p: (p / NAME).write_bytes(b""), "not a readable audio file", Code.UNREADABLE),
    "zero frames": (lambda p: _write(p, NAME, np.zeros(0, dtype=np.float32)), "no audio (0 frames)", Code.EMPTY),
    "nan": (
        lambda p: _write(p, NAME, np.r_[vowel(1.0), np.nan].astype(np.float32)),
        "1 NaN or infinite samples in the file",
        Code.NON_FINITE,
    ),
    "inf": (
        lambda p: _write(p, NAME, np.r_[np.inf, vowel(1.0)].astype(np.float32)),
        "NaN or infinite",
        Code.NON_FINITE,
    ),
    "digital silence": (
        lambda p: _write(p, NAME, np.zeros(8000, dtype=np.float32), subtype="PCM_16"),
        "no voice found (digital silence",
        Code.SILENT,
    ),
    "dc only": (lambda p: _write(p, NAME, np.full(8000, 0.25, dtype=np.float32)), "a constant DC offset", Code.SILENT),
    "near silence": (
        lambda p: _write(p, NAME, 1e-6 * np.sin(np.arange(8000)).astype(np.float32)),
        "no voice found (peak -120 dBFS, below the -80 dBFS floor)",
        Code.NO_VOICE,
    ),
    "absurd rate low": (
        lambda p: _write(p, NAME, vowel(1.0), sr=1000),
        "sample rate 1000 Hz is outside",
        Code.BAD_RATE,
    ),
    "absurd rate high": (
        lambda p: _write(p, NAME, vowel(1.0), sr=768000),
        "sample rate 768000 Hz is outside",
        Code.BAD_RATE,
    ),
    "missing": (lambda p: None, "file not found", Code.NOT_FOUND),
    "folder": (lambda p: (p / NAME).mkdir(), "is a folder", Code.UNREADABLE),
    "truncated wav": (
        lambda p: (p / NAME).write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt "),
        "not a readable audio file",
        Code.UNREADABLE,
    ),
    "1024 channels": (_sparse_many_channels, f"declares 1024 channels; at most {MAX_CHANNELS}", Code.TOO_LARGE),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_file_gives_one_sentence_naming_it(tmp_path, case):
    make, reason, code = CASES[case]
    make(tmp_path)
    with pytest.raises(AudioError) as info:
        load_recording(tmp_path / NAME, sample_rate=8000)
    msg = str(info.value)
    assert msg.startswith(f"{NAME}: ") and msg.endswith(".")
    assert reason in msg
    assert "\n" not in msg and "Traceback" not in msg
    assert info.value.code is code


def test_too_short_after_trimming(tmp_path):
    path = _write(tmp_path, "ID1_rhythmPA.wav", vowel(0.3, lead=1.0))
    rec = load_recording(path, sample_rate=8000)
    with pytest.raises(
        AudioError, match=r"^ID1_rhythmPA.wav: 0\.\d\d s of voice after trimming; at least 0.5 s is needed\.$"
    ) as info:
        prepare_input(rec.samples, spec=TEST_SPEC, task=get_task("rhythmPA"), name=path.name)
    assert info.value.code is Code.TOO_SHORT


def test_a_newline_in_the_name_stays_on_one_line(tmp_path):
    path = tmp_path / "ID1 bad\nname\x1b[31m_phonationA.wav"
    path.write_text("not audio")
    with pytest.raises(AudioError) as info:
        load_recording(path, sample_rate=8000)
    msg = str(info.value)
    assert "\n" not in msg and "\x1b" not in msg and msg.startswith("ID1 bad\\nname\\x1b[31m_phonationA.wav: ")


def test_a_corrupt_mp3_says_one_sentence_and_prints_nothing(tmp_path, capfd):
    good = tmp_path / "good.mp3"
    sf.write(good, vowel(2.0), 8000, format="MP3", subtype="MPEG_LAYER_III")
    raw = bytearray(good.read_bytes())
    rng = np.random.default_rng(0)
    for i in rng.integers(200, len(raw), 400):  # scatter garbage through the frames
        raw[i] = int(rng.integers(0, 256))
    bad = tmp_path / "ID1_phonationA.mp3"
    bad.write_bytes(bytes(raw[:200]) + b"\xff\xfb" + bytes(raw[200:]))
    capfd.readouterr()
    try:
        rec = load_recording(bad, sample_rate=8000)
        assert np.isfinite(rec.samples).all()
    except AudioError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("ID1_phonationA.mp3: ")
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_float_samples_far_beyond_full_scale_are_scaled_with_a_note(tmp_path):
    x = vowel(2.0, lead=0.3).astype(np.float64) * 1e30
    path = _write(tmp_path, NAME, x.astype(np.float32))
    rec = load_recording(path, sample_rate=8000)
    assert np.isfinite(rec.samples).all() and np.abs(rec.samples).max() <= 1.0 + 1e-6
    assert Code.SCALED in codes(rec.warnings)
    p = prepare_input(rec.samples, spec=TEST_SPEC, task=get_task("phonationA"), name=NAME)
    assert bool(p.windows.isfinite().all())


def test_non_finite_samples_given_directly_to_the_trimmer_are_refused():
    x = vowel(2.0)
    x[100] = np.nan
    with pytest.raises(AudioError, match="not finite") as info:
        trim(x, spec=TEST_SPEC, name=NAME)
    assert info.value.code is Code.NON_FINITE


# --- every code has a producer and a flag --------------------------------------------------


def _warning_file(p, code):
    x = vowel(2.0, lead=0.3, level=0.3)
    if code is Code.CLIPPING:
        return _write(p, NAME, np.clip(x * 10, -1, 1))
    if code is Code.DC_REMOVED:
        return _write(p, NAME, x + 0.2)
    if code is Code.LOW_LEVEL:
        return _write(p, NAME, x * 0.003)
    if code is Code.SCALED:
        return _write(p, NAME, x * 1e6)
    if code is Code.TRUNCATED:
        return _write(p, NAME, np.tile(x, int(MAX_SECONDS / 2.6) + 2), sr=4000)
    if code is Code.INCOMPLETE:
        path = _write(p, NAME, x, subtype="PCM_16")
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 2])  # the header still announces all of it
        return path
    raise AssertionError(code)


def _rejection(p, code):
    if code is Code.TOO_SHORT:
        rec = load_recording(_write(p, NAME, vowel(0.2, lead=1.0)), sample_rate=8000)
        trim(rec.samples, spec=TEST_SPEC, name=NAME)
    elif code is Code.NO_VOICE:
        noise = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
        trim(load_recording(_write(p, NAME, noise), sample_rate=8000).samples, spec=TEST_SPEC, name=NAME)
    else:
        make = next(m for m, _, c in CASES.values() if c is code)
        make(p)
        load_recording(p / NAME, sample_rate=8000)


@pytest.mark.parametrize("code", sorted(Code, key=lambda c: c.value))
def test_every_code_has_a_producer(tmp_path, code):
    if code in WARNINGS:
        rec = load_recording(_warning_file(tmp_path, code), sample_rate=8000)
        assert code in codes(rec.warnings)
        assert all(isinstance(w, Note) for w in rec.warnings)
    else:
        with pytest.raises(AudioError) as info:
            _rejection(tmp_path, code)
        assert info.value.code is code, str(info.value)


def test_codes_and_flags_match_one_to_one():
    assert set(FLAGS) == set(Code) and WARNINGS | REJECTIONS == set(Code) and not WARNINGS & REJECTIONS
    assert len(set(FLAGS.values())) == len(FLAGS) and all(FLAGS.values())
    err = AudioError("x: no voice found (hum).", code=Code.NO_VOICE)
    assert flags([Note("clipping", code=Code.CLIPPING), "plain old string"], err) == ["clipping", "no voice"]


# --- the CLI --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["not audio", "digital silence", "absurd rate low", "1024 channels"])
def test_cli_prints_one_line_and_exits_2(tmp_path, tiny_bundle, case):
    CASES[case][0](tmp_path)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "sand_gui.cli",
            "analyze",
            str(tmp_path / NAME),
            "--model",
            str(tiny_bundle),
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and NAME in lines[0] and CASES[case][1] in lines[0]
    assert proc.stdout == ""


@pytest.mark.parametrize(
    "args, reason",
    [
        (["analyze", "/no/such/folder"], "no such file or folder"),
        (
            ["analyze", "{tmp}/x.wav", "--model", "{tmp}/missing.safetensors"],
            "missing.safetensors: model bundle not found",
        ),
        (["analyze", "{tmp}"], "no audio file named after a task"),
        (["card", "{tmp}/x.wav"], "x.wav: not a safetensors bundle"),
    ],
)
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
