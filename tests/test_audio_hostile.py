"""The loader as an attacker sees it: crafted headers, extreme samples, sparse files and
arbitrary bytes. Every case ends in a ``SandError`` (one line, with a code) or a finite,
valid ``Recording``, in bounded time and memory; never another exception."""

from __future__ import annotations

import struct
import time
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sandtest import vowel

from sand_gui.audio import MAX_CHANNELS, MAX_DECODE_BYTES, MAX_SECONDS, load_recording
from sand_gui.errors import AudioError, SandError
from sand_gui.quality import Code, codes

SR = 8000
NAME = "ID7_phonationA.wav"
MEMORY_LIMIT = 64 * 2**20  # bytes Python/numpy may allocate for one hostile file (tracemalloc)


def riff(*, tag=1, channels=1, rate=SR, bits=16, data_bytes=0, payload=b"", riff_bytes=None) -> bytes:
    """A RIFF/WAVE file whose header claims what it is told, followed by ``payload``."""
    block = max(channels * bits // 8, 0) & 0xFFFF
    fmt = struct.pack(
        "<HHIIHH", tag & 0xFFFF, channels & 0xFFFF, rate & 0xFFFFFFFF, (rate * block) & 0xFFFFFFFF, block, bits & 0xFFFF
    )
    size = 36 + data_bytes if riff_bytes is None else riff_bytes
    return (
        b"RIFF"
        + struct.pack("<I", size & 0xFFFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes & 0xFFFFFFFF)
        + payload
    )


def pcm16(x: np.ndarray) -> bytes:
    return (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()


def float32(x) -> bytes:
    return np.asarray(x, dtype="<f4").tobytes()


def float64(x) -> bytes:
    return np.asarray(x, dtype="<f8").tobytes()


VOICE = vowel(1.5, lead=0.2).astype(np.float64)

# name -> bytes of the file
HOSTILE = {
    "rate 0": riff(rate=0, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "rate 1": riff(rate=1, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "rate 2**32-1": riff(rate=2**32 - 1, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "0 channels": riff(channels=0, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "1024 channels": riff(channels=1024, data_bytes=2**31, payload=b"\0" * 4000),
    "65535 channels": riff(channels=65535, data_bytes=2**32 - 1, payload=b"\0" * 4000),
    "0 bits": riff(bits=0, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "7 bits": riff(bits=7, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "128 bits": riff(bits=128, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "unknown format tag": riff(tag=0x7777, data_bytes=3200, payload=pcm16(VOICE[:1600])),
    "data size 2**32-1, 1 KB file": riff(data_bytes=2**32 - 1, payload=pcm16(VOICE[:500])),
    "data size larger than the file": riff(data_bytes=10**9, payload=pcm16(VOICE)),
    "riff size 0": riff(data_bytes=len(VOICE) * 2, payload=pcm16(VOICE), riff_bytes=0),
    "truncated data": riff(data_bytes=len(VOICE) * 2, payload=pcm16(VOICE)[:100]),
    "header only": riff(data_bytes=3200),
    "odd byte of data": riff(data_bytes=1, payload=b"\x01"),
    "float 1e38": riff(tag=3, bits=32, data_bytes=len(VOICE) * 4, payload=float32(VOICE * 1e38)),
    "float max": riff(
        tag=3, bits=32, data_bytes=len(VOICE) * 4, payload=float32(np.sign(VOICE) * np.finfo(np.float32).max)
    ),
    "float NaN": riff(tag=3, bits=32, data_bytes=len(VOICE) * 4, payload=float32(np.r_[VOICE[:-1], np.nan])),
    "float -Inf": riff(tag=3, bits=32, data_bytes=len(VOICE) * 4, payload=float32(np.r_[-np.inf, VOICE[1:]])),
    "float denormals": riff(tag=3, bits=32, data_bytes=len(VOICE) * 4, payload=float32(VOICE * 1e-39)),
    "double 1e300": riff(tag=3, bits=64, data_bytes=len(VOICE) * 8, payload=float64(VOICE * 1e300)),
    "double 1e308 stereo": riff(
        tag=3, bits=64, channels=2, data_bytes=len(VOICE) * 16, payload=float64(np.repeat(np.sign(VOICE) * 1.7e308, 2))
    ),
    "double NaN everywhere": riff(
        tag=3, bits=64, data_bytes=len(VOICE) * 8, payload=float64(np.full(len(VOICE), np.nan))
    ),
    "noise at full scale": riff(
        data_bytes=len(VOICE) * 2, payload=pcm16(np.random.default_rng(0).uniform(-1, 1, len(VOICE)))
    ),
    "RIFF then garbage": b"RIFF" + bytes(range(256)) * 8,
    "WAVE without fmt": b"RIFF\x10\x00\x00\x00WAVEdata\x00\x00\x00\x00",
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_header_ends_in_one_sentence_or_a_finite_recording(tmp_path, case):
    path = tmp_path / NAME
    path.write_bytes(HOSTILE[case])
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        rec = load_recording(path, sample_rate=SR)
    except AudioError as exc:
        msg = str(exc)
        assert msg.startswith(NAME + ": ") and "\n" not in msg and msg.endswith(".")
        assert isinstance(exc.code, Code)
    else:
        assert rec.samples.dtype == np.float32 and rec.samples.ndim == 1 and len(rec.samples) > 0
        assert (
            np.isfinite(rec.samples).all() and np.abs(rec.samples).max() <= 2.5
        )  # full scale, after DC removal and resampling
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 10
    assert peak < MEMORY_LIMIT, f"{case}: {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize(
    "case, code",
    [
        ("1024 channels", Code.TOO_LARGE),
        ("float NaN", Code.NON_FINITE),
        ("float -Inf", Code.NON_FINITE),
        ("double NaN everywhere", Code.NON_FINITE),
        ("float denormals", Code.NO_VOICE),
        ("rate 1", Code.BAD_RATE),
        ("noise at full scale", None),
        # libsndfile itself refuses these headers (more than 1024 channels; a rate beyond 2**31)
        ("65535 channels", Code.UNREADABLE),
        ("rate 2**32-1", Code.UNREADABLE),
    ],
)
def test_hostile_cases_give_their_code(tmp_path, case, code):
    (tmp_path / NAME).write_bytes(HOSTILE[case])
    if code is None:  # loads; the voicing check refuses it later
        assert np.isfinite(load_recording(tmp_path / NAME, sample_rate=SR).samples).all()
        return
    with pytest.raises(AudioError) as info:
        load_recording(tmp_path / NAME, sample_rate=SR)
    assert info.value.code is code, str(info.value)


@pytest.mark.parametrize("case", ["float 1e38", "float max", "double 1e300", "double 1e308 stereo"])
def test_astronomical_floats_are_scaled_and_stay_finite(tmp_path, case):
    (tmp_path / NAME).write_bytes(HOSTILE[case])
    rec = load_recording(tmp_path / NAME, sample_rate=SR, bandlimit_hz=3000)
    assert Code.SCALED in codes(rec.warnings)
    assert np.isfinite(rec.samples).all() and 0.5 < np.abs(rec.samples).max() <= 2.5


def test_a_sparse_file_costs_what_is_read_not_what_the_header_claims(tmp_path):
    """A 4 GB sparse file (a few KB on disk): one channel, so it is read, but only
    ``MAX_SECONDS`` of it, within the memory bound."""
    path = tmp_path / NAME
    with open(path, "wb") as fh:
        fh.write(riff(data_bytes=2**32 - 100, payload=pcm16(VOICE)))
        fh.truncate(2**32)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        load_recording(path, sample_rate=SR)
    except AudioError as exc:
        assert exc.code in (Code.SILENT, Code.NO_VOICE, Code.TOO_LARGE)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < 8 * MAX_SECONDS * SR + 16 * 2**20
    assert time.perf_counter() - t0 < 20


def test_the_decode_bound_is_checked_from_the_header(tmp_path):
    """A 4 GB sparse file of 32 channels at 384 kHz: 120 s of it would be 11.8 GB of float64,
    refused unread (libsndfile counts frames up to the file's size, so the file is sparse)."""
    path = tmp_path / NAME
    with open(path, "wb") as fh:
        fh.write(riff(channels=MAX_CHANNELS, rate=384000, data_bytes=2**32 - 64, payload=b"\0" * 4096))
        fh.truncate(2**32)
    with pytest.raises(AudioError, match=r"would need \d+ MiB; the limit is 512 MiB") as info:
        load_recording(path, sample_rate=SR)
    assert info.value.code is Code.TOO_LARGE and MAX_DECODE_BYTES == 512 * 2**20


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_S8", "PCM_24", "DOUBLE", "ULAW", "ALAW"])
def test_every_legal_sample_format_loads(tmp_path, subtype):
    fmt = "AIFF" if subtype == "PCM_S8" else "WAV"
    path = tmp_path / f"ID7_phonationA.{fmt.lower()}"
    sf.write(path, VOICE, SR, format=fmt, subtype=subtype)
    rec = load_recording(path, sample_rate=SR)
    assert np.isfinite(rec.samples).all() and abs(rec.seconds - len(VOICE) / SR) < 0.01


# --- fuzzing ---------------------------------------------------------------------------


def _check_any(path):
    t0 = time.perf_counter()
    try:
        rec = load_recording(path, sample_rate=SR)
    except SandError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(NAME)
    else:
        assert np.isfinite(rec.samples).all() and rec.samples.dtype == np.float32 and len(rec.samples)
    assert time.perf_counter() - t0 < 10


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=4096))
def test_fuzz_arbitrary_bytes(tmp_path, data):
    path = tmp_path / NAME
    path.write_bytes(data)
    _check_any(path)


@FUZZ
@given(
    tag=st.sampled_from([1, 3, 6, 7, 0xFFFE, 0]) | st.integers(0, 0xFFFF),
    channels=st.integers(0, 0xFFFF),
    rate=st.integers(0, 2**32 - 1),
    bits=st.sampled_from([8, 16, 24, 32, 64]) | st.integers(0, 0xFFFF),
    data_bytes=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=2048),
)
@example(tag=1, channels=1, rate=32001, bits=8, data_bytes=2, payload=b"\x00\x01")  # 2 samples: none left at 8 kHz
def test_fuzz_crafted_headers(tmp_path, tag, channels, rate, bits, data_bytes, payload):
    path = tmp_path / NAME
    path.write_bytes(riff(tag=tag, channels=channels, rate=rate, bits=bits, data_bytes=data_bytes, payload=payload))
    _check_any(path)


@FUZZ
@given(
    samples=st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=3000),
    channels=st.integers(1, 3),
)
def test_fuzz_float_samples(tmp_path, samples, channels):
    x = np.asarray(samples, dtype=np.float32)
    x = x[: len(x) - len(x) % channels] if len(x) >= channels else np.resize(x, channels)
    path = tmp_path / NAME
    path.write_bytes(riff(tag=3, bits=32, channels=channels, data_bytes=x.nbytes, payload=x.tobytes()))
    _check_any(path)
