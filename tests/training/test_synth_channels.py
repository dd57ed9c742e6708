"""Channels of ``training.synth.channel_spec``: each is deterministic per seed and changes the signal the
way its name says (band limits, G.711, reverberation, AGC, noise at the asked SNR, bad phones, codecs)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from sand_gui.errors import UsageError
from training.synth import CHANNEL_FAMILIES, ChannelSpec, Effect, apply_channel, draw_channel_spec
from training.synth.codecs import alaw_decode, alaw_encode, codec_roundtrip, mulaw_decode, mulaw_encode
from training.synth.dynamics import agc, band_limit, dropout, lowbit
from training.synth.noise import NOISE_TYPES, add_noise
from training.synth.rooms import reverberate
from training.synth.source import SourceSpec
from training.synth.vowels import sustained_vowel

SR = 8000
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
ALL_PCM = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


def vowel(seconds: float = 1.5, *, sample_rate: int = SR, seed: int = 0) -> np.ndarray:
    """A real synthetic vowel with 0.3 s of silence either side, peak 0.5."""
    src = SourceSpec(
        f0_hz=130, jitter=0.005, shimmer=0.02, tremor_hz=5, tremor_depth=0.005, breaks_per_s=0, creak_fraction=0
    )
    y = sustained_vowel(
        "a",
        seconds=seconds,
        source=src,
        sex="M",
        tract_scale=1.0,
        centralisation=0.0,
        nasality=0.05,
        hnr_db=20.0,
        decline=0.1,
        sample_rate=sample_rate,
        rng=np.random.default_rng(seed),
    )
    pad = np.zeros(int(0.3 * sample_rate))
    return np.concatenate([pad, 0.5 * y, pad])


def level_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x**2) + 1e-20))


def ffmpeg_codes(pcm: np.ndarray, fmt: str) -> np.ndarray:
    raw = ["-f", "s16le", "-ar", "8000", "-ac", "1"]
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", *raw, "-i", "pipe:0", "-c:a", f"pcm_{fmt}", "-f", fmt, "pipe:1"],
        input=pcm.astype("<i2").tobytes(),
        capture_output=True,
        check=True,
    )
    return np.frombuffer(out.stdout, dtype=np.uint8)


# --- determinism ---------------------------------------------------------------------------


@pytest.mark.parametrize("family", CHANNEL_FAMILIES)
def test_each_family_is_deterministic_per_seed(family):
    if family in ("telephone", "voip") and shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    x = vowel(1.0)
    spec = draw_channel_spec(np.random.default_rng(3), families=(family,))
    assert spec == draw_channel_spec(np.random.default_rng(3), families=(family,)) and spec.family == family
    a = apply_channel(x, SR, channel=spec, rng=np.random.default_rng(5))
    b = apply_channel(x, SR, channel=spec, rng=np.random.default_rng(5))
    assert a.shape == x.shape and np.isfinite(a).all() and np.array_equal(a, b)
    if family != "smartphone":
        assert not np.allclose(a, x, atol=1e-4)  # it did something
    assert spec.to_dict()["family"] == family


def test_unknown_family_or_effect_is_one_line():
    with pytest.raises(UsageError, match=r"^channel family 'cellphone' is unknown; use smartphone, .*\.$"):
        draw_channel_spec(np.random.default_rng(0), families=("cellphone",))
    with pytest.raises(UsageError, match=r"^channel effect 'echo' is unknown\.$"):
        apply_channel(np.zeros(10), SR, channel=ChannelSpec("x", (Effect("echo"),)), rng=np.random.default_rng(0))
    with pytest.raises(UsageError, match=r"^codec 'amr' is unknown; use one of g711u, g711a, gsm, g726, opus\.$"):
        codec_roundtrip(np.zeros(10), SR, codec="amr")


# --- band limits ---------------------------------------------------------------------------


def test_telephone_band_removes_energy_above_3400_hz():
    """At 16 kHz white noise through 300-3400 Hz keeps its 500-3000 Hz band and loses > 30 dB above 4.5 kHz
    and below 100 Hz."""
    sr = 16000
    x = np.random.default_rng(0).standard_normal(4 * sr)
    y = band_limit(x, sr, low_hz=300.0, high_hz=3400.0)
    f = np.fft.rfftfreq(len(x), 1 / sr)

    def band(z, lo, hi):
        return 10 * np.log10(np.mean(np.abs(np.fft.rfft(z))[(f >= lo) & (f < hi)] ** 2))

    assert abs(band(y, 500, 3000) - band(x, 500, 3000)) < 1.5
    assert band(y, 4500, 8000) < band(x, 4500, 8000) - 30.0
    assert band(y, 20, 100) < band(x, 20, 100) - 30.0


# --- G.711 ---------------------------------------------------------------------------------


def test_g711_round_trip_error_is_bounded_by_the_segment_step():
    """Every 16-bit value comes back within half a quantisation step: 1/32 of its magnitude plus 16 counts."""
    for encode, decode in ((mulaw_encode, mulaw_decode), (alaw_encode, alaw_decode)):
        back = decode(encode(ALL_PCM)).astype(np.int64)
        err = np.abs(back - ALL_PCM.astype(np.int64))
        assert (err <= np.abs(ALL_PCM.astype(np.int64)) / 32 + 16).all()
        assert len(np.unique(encode(ALL_PCM))) == 256
        assert np.array_equal(decode(encode(back.astype(np.int16))), back)  # decoded values are fixed points


@needs_ffmpeg
def test_g711_agrees_with_ffmpeg():
    """Decoding matches ffmpeg's pcm_mulaw/pcm_alaw code for code; encoding picks ffmpeg's code for >= 98 %
    of all 65536 inputs and otherwise the neighbouring level (ffmpeg rounds to the nearest level, the
    reference arithmetic truncates within the segment)."""
    for fmt, encode, decode in (("mulaw", mulaw_encode, mulaw_decode), ("alaw", alaw_encode, alaw_decode)):
        codes = ffmpeg_codes(ALL_PCM, fmt)
        ours = encode(ALL_PCM)
        assert (codes == ours).mean() >= 0.98
        levels = np.unique(decode(np.arange(256, dtype=np.uint8)).astype(int))
        step = np.abs(np.searchsorted(levels, decode(codes)) - np.searchsorted(levels, decode(ours)))
        assert step.max() <= 1
        every = np.arange(256, dtype=np.uint8)
        out = subprocess.run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-f",
                fmt,
                "-ar",
                "8000",
                "-ac",
                "1",
                "-i",
                "pipe:0",
                "-f",
                "s16le",
                "pipe:1",
            ],
            input=every.tobytes(),
            capture_output=True,
            check=True,
        )
        assert np.array_equal(np.frombuffer(out.stdout, dtype="<i2"), decode(every))


@needs_ffmpeg
@pytest.mark.parametrize(("codec", "bitrate"), [("gsm", 0), ("g726", 16000), ("opus", 8000)])
def test_ffmpeg_codecs_keep_the_voice_and_are_deterministic(codec, bitrate):
    x = vowel(1.0)
    y = codec_roundtrip(x, SR, codec=codec, bitrate=bitrate)
    assert y.shape == x.shape and np.array_equal(y, codec_roundtrip(x, SR, codec=codec, bitrate=bitrate))
    assert not np.array_equal(y, x)
    f = np.fft.rfftfreq(len(x), 1 / SR)
    bands = [(f >= lo) & (f < lo + 250) for lo in range(0, 3750, 250)]  # a perceptual codec keeps the spectrum,
    spec_x, spec_y = ([level_db(np.abs(np.fft.rfft(z))[b]) for b in bands] for z in (x, y))  # not the waveform
    assert np.corrcoef(spec_x, spec_y)[0, 1] > 0.9
    assert abs(level_db(y) - level_db(x)) < 3.0


@needs_ffmpeg
def test_gsm_in_process_is_ffmpegs_libgsm_sample_for_sample_and_opus_lines_up():
    from training.synth.codec_libs import gsm_roundtrip, opus_roundtrip
    from training.synth.codecs import ffmpeg_roundtrip, to_int16

    pcm = to_int16(vowel(1.0))
    assert np.array_equal(gsm_roundtrip(pcm, SR), ffmpeg_roundtrip(pcm, SR, codec="gsm", bitrate=0))
    y = opus_roundtrip(pcm, SR, bitrate=12000).astype(float)
    lags = np.correlate(y[2400:6400], pcm[2400:6400].astype(float), "full")
    assert np.argmax(lags) - 3999 == 0  # the encoder's look-ahead is removed


# --- rooms, AGC, noise ---------------------------------------------------------------------


def decay_time(x: np.ndarray, stop: int, *, drop_db: float = 30.0) -> float:
    """Seconds after sample ``stop`` until the 10 ms level stays ``drop_db`` below the level before it."""
    frame = int(0.01 * SR)
    ref = level_db(x[stop - 4 * frame : stop])
    frames = [level_db(x[i : i + frame]) for i in range(stop, len(x) - frame, frame)]
    above = [i for i, v in enumerate(frames) if v > ref - drop_db]
    return (above[-1] + 1) * frame / SR if above else 0.0


def test_reverberation_lengthens_the_decay_and_more_so_in_a_livelier_room():
    x = np.zeros(2 * SR)
    x[: SR // 2] = np.random.default_rng(0).standard_normal(SR // 2) * 0.3
    room = dict(room_dim=(5.0, 4.0, 2.8), source=(2.0, 2.0, 1.5), mic=(3.0, 2.5, 1.2))
    dry = decay_time(x, SR // 2)
    short = decay_time(reverberate(x, SR, rt60=0.25, **room), SR // 2)
    long = decay_time(reverberate(x, SR, rt60=0.7, **room), SR // 2)
    assert dry < 0.02 and short > 0.05 and long > short + 0.05, (dry, short, long)


def test_agc_reduces_level_variance():
    """Three 1 s stretches at -45, -25 and -8 dBFS: their levels spread 37 dB before and less than half after."""
    rng = np.random.default_rng(1)
    parts = [rng.standard_normal(SR) * 10 ** (db / 20) for db in (-45, -25, -8)]
    x = np.concatenate(parts)
    y = agc(x, SR, target_dbfs=-20.0, attack_ms=10.0, release_ms=300.0, max_gain_db=30.0)
    before = [level_db(p) for p in parts]
    after = [level_db(y[i * SR + SR // 2 : (i + 1) * SR]) for i in range(3)]
    assert np.std(after) < 0.5 * np.std(before), (before, after)
    assert np.abs(y).max() <= 10 ** (-1 / 20) + 1e-9  # the limiter holds peaks under -1 dBFS


@pytest.mark.parametrize("kind", NOISE_TYPES)
def test_noise_is_mixed_at_the_requested_snr(kind):
    """SNR = power of the voiced stretch (measured directly, not with the mixer's own estimate) over the power
    of what was added, within 0.5 dB of the request."""
    x = vowel(1.5)
    voiced = slice(int(0.35 * SR), int(1.75 * SR))
    for snr in (5.0, 20.0):
        y = add_noise(x, SR, kind=kind, snr_db=snr, rng=np.random.default_rng(2))
        measured = level_db(x[voiced]) - level_db(y - x)
        assert abs(measured - snr) < 0.5, (kind, snr, measured)


# --- bad phones ----------------------------------------------------------------------------


def test_bad_phone_faults_do_what_they_say():
    x = vowel(1.0)
    rng = np.random.default_rng(0)
    spec = ChannelSpec(
        "badphone",
        (
            Effect("clip", {"drive_db": 6.0}),
            Effect("dc", {"offset": 0.05}),
        ),
    )
    y = apply_channel(x, SR, channel=spec, rng=rng)
    assert np.isclose(np.abs(y - 0.05).max(), np.abs(x).max() / 2, rtol=0.01)  # clipped 6 dB under the peak
    assert abs(np.mean(y) - np.mean(x) - 0.05) < 1e-3
    holes = dropout(np.ones(10 * SR), SR, rate=1.0, rng=np.random.default_rng(1))
    assert 0.005 < np.mean(holes == 0.0) < 0.2
    assert len(np.unique(lowbit(x, bits=6))) <= 64
    resonant = apply_channel(
        x,
        SR,
        channel=ChannelSpec("badphone", (Effect("resonance", {"freq": 2000.0, "gain_db": 12.0, "q": 5.0}),)),
        rng=rng,
    )
    f = np.fft.rfftfreq(len(x), 1 / SR)
    near = (f > 1900) & (f < 2100)
    gain = 10 * np.log10(np.sum(np.abs(np.fft.rfft(resonant))[near] ** 2) / np.sum(np.abs(np.fft.rfft(x))[near] ** 2))
    assert gain > 8.0
