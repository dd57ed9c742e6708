import librosa
import numpy as np
import pytest

from sand_gui.vad import detect_voice, frame_rms

SR = 8000


def _burst(onset_s, offset_s, total_s, *, sr=SR, seed=0):
    rng = np.random.default_rng(seed)
    x = 1e-4 * rng.standard_normal(int(total_s * sr))
    a, b = int(onset_s * sr), int(offset_s * sr)
    t = np.arange(b - a) / sr
    x[a:b] += 0.5 * np.sin(2 * np.pi * 200 * t)
    return x.astype(np.float32), a, b


@pytest.mark.parametrize("frame, hop", [(2048, 512), (512, 128)])
def test_kept_range_matches_librosa_trim_exactly(frame, hop):
    x, _, _ = _burst(0.7, 2.3, 3.0)
    r = detect_voice(x, top_db=30, frame_length=frame, hop_length=hop)
    _, (a, b) = librosa.effects.trim(x, top_db=30, frame_length=frame, hop_length=hop)
    assert (r.start, r.stop) == (a, b)


def test_frame_rms_matches_librosa():
    x, _, _ = _burst(0.2, 0.9, 1.0)
    ours = frame_rms(x, frame_length=512, hop_length=128)
    ref = librosa.feature.rms(y=x, frame_length=512, hop_length=128, center=True, pad_mode="constant")[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("onset, offset", [(0.5, 2.0), (0.013, 1.5), (1.2, 2.9)])
def test_boundaries_on_constructed_signals(onset, offset):
    """Centred frames reach a step onset half a frame early: the kept range starts within
    [onset - frame/2 - hop, onset] and stops within [offset, offset + frame/2 + hop]."""
    frame, hop = 512, 128
    x, a, b = _burst(onset, offset, 3.0)
    r = detect_voice(x, top_db=30, frame_length=frame, hop_length=hop)
    assert a - frame // 2 - hop <= r.start <= a
    assert b <= r.stop <= b + frame // 2 + hop
    # i.e. within one hop of the onset/offset moved out by half a frame (clipped to the signal)
    assert abs(r.start - max(0, a - frame // 2)) <= hop
    assert abs(r.stop - min(len(x), b + frame // 2)) <= hop


def test_quieter_than_30_db_is_trimmed_louder_is_kept():
    x, a, b = _burst(1.0, 2.0, 3.0)
    x[: int(0.5 * SR)] += 0.5 * 10 ** (-40 / 20) * np.sin(np.arange(int(0.5 * SR)))  # -40 dB: trimmed
    assert detect_voice(x, frame_length=512, hop_length=128).start > 0.5 * SR
    y, _, _ = _burst(1.0, 2.0, 3.0)
    y[: int(0.5 * SR)] += 0.5 * 10 ** (-20 / 20) * np.sin(np.arange(int(0.5 * SR)))  # -20 dB: kept
    assert detect_voice(y, frame_length=512, hop_length=128).start < 0.1 * SR


def test_silence_keeps_nothing():
    r = detect_voice(np.zeros(8000, dtype=np.float32))
    assert r.length == 0
