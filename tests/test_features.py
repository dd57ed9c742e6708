"""The features against an independent librosa computation of the same definition.

Tolerances: mel dB within 0.05 dB wherever the power is within 60 dB of the maximum
(float32 torch vs float64 librosa; below that, float32 rounding of tiny powers dominates),
and the normalised 3-channel output within 2e-3 (in standard deviations) everywhere.
"""

import librosa
import numpy as np
import pytest
import torch
from sandtest import TEST_SPEC, ddk, vowel

from sand_gui.errors import AudioError, BundleError
from sand_gui.features import SEED_SPEC, FeatureSpec, compute_features, mel_db, prepare_input, to_windows, window_starts
from sand_gui.tasks import get_task


def librosa_reference(y: np.ndarray, spec: FeatureSpec, family: str):
    f_min, f_max = spec.band(family)
    S = librosa.feature.melspectrogram(
        y=y.astype(np.float64),
        sr=spec.sample_rate,
        n_fft=spec.n_fft,
        hop_length=spec.hop_length,
        win_length=spec.n_fft,
        window="hann",
        center=True,
        pad_mode="reflect",
        power=2.0,
        n_mels=spec.n_mels,
        fmin=f_min,
        fmax=f_max,
        htk=True,
        norm=None,
    )
    db = librosa.power_to_db(S, ref=1.0, amin=1e-10, top_db=spec.top_db)
    d1 = librosa.feature.delta(db, width=spec.delta_width, order=1, mode="nearest")
    d2 = librosa.feature.delta(d1, width=spec.delta_width, order=1, mode="nearest")
    F = np.stack([db, d1, d2])
    F = (F - F.mean(axis=(1, 2), keepdims=True)) / (F.std(axis=(1, 2), ddof=1, keepdims=True) + 1e-5)
    return db, F


@pytest.mark.parametrize(
    "spec, family, make",
    [
        (SEED_SPEC, "phonation", lambda sr: vowel(2.0, sr=sr, lead=0.0)),
        (SEED_SPEC, "rhythm", lambda sr: ddk(2.0, sr=sr, lead=0.0)),
        (TEST_SPEC, "phonation", lambda sr: vowel(2.0, sr=sr, lead=0.0)),
        (TEST_SPEC, "rhythm", lambda sr: ddk(2.0, sr=sr, lead=0.0)),
    ],
)
def test_features_match_librosa(spec, family, make):
    y = make(spec.sample_rate)
    ref_db, ref = librosa_reference(y, spec, family)
    wave = torch.from_numpy(y)
    db = mel_db(wave, spec=spec, family=family).numpy()
    loud = ref_db > ref_db.max() - 60
    assert db.shape == ref_db.shape
    np.testing.assert_allclose(db[loud], ref_db[loud], atol=0.05)
    ours = compute_features(wave, spec=spec, family=family).numpy()
    assert ours.shape == (3, spec.n_mels, ref_db.shape[1])
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_batched_equals_one_by_one():
    ys = torch.from_numpy(np.stack([vowel(1.5, lead=0.0, seed=s, f0=100 + 40 * s) for s in range(3)]))
    batch = compute_features(ys, spec=TEST_SPEC, family="phonation")
    for i in range(3):
        single = compute_features(ys[i], spec=TEST_SPEC, family="phonation")
        torch.testing.assert_close(batch[i], single, atol=1e-4, rtol=1e-4)


def test_bands_are_clipped_to_the_band_limit():
    assert SEED_SPEC.band("rhythm") == (100.0, 6000.0)
    assert FeatureSpec(bandlimit_hz=4000.0).band("rhythm") == (100.0, 4000.0)
    assert TEST_SPEC.band("rhythm") == (100.0, 4000.0)


def test_windows_cover_the_recording_with_half_overlap():
    assert window_starts(50, n_frames=64) == [0]
    starts = window_starts(300, n_frames=64)
    assert starts[0] == 0 and starts[-1] == 300 - 64
    assert all(b - a <= 32 for a, b in zip(starts, starts[1:]))
    f = torch.randn(3, 8, 40)
    w = to_windows(f, n_frames=64)
    assert w.shape == (1, 3, 8, 64) and torch.equal(w[0, :, :, :40], f) and w[0, :, :, 40:].abs().sum() == 0


def test_prepare_input_trims_and_windows():
    x = vowel(3.0, lead=1.0)
    p = prepare_input(x, spec=TEST_SPEC, task=get_task("phonationA"))
    assert 2.9 < p.voiced_seconds < 3.2
    assert p.windows.shape[1:] == (3, TEST_SPEC.n_mels, TEST_SPEC.n_frames)


def test_too_little_voice_is_refused_with_the_name():
    x = vowel(0.2, lead=1.0)
    with pytest.raises(
        AudioError, match=r"ID1_phonationA.wav: 0\.\d+ s of voice after trimming; at least 0.5 s is needed"
    ):
        prepare_input(x, spec=TEST_SPEC, task=get_task("phonationA"), name="ID1_phonationA.wav")


def test_spec_round_trip_and_refusals():
    assert FeatureSpec.from_dict(TEST_SPEC.to_dict()) == TEST_SPEC
    with pytest.raises(BundleError, match="cannot honour: pcen"):
        FeatureSpec.from_dict({**TEST_SPEC.to_dict(), "pcen": True})
    with pytest.raises(BundleError, match="normalization 'minmax' is unknown"):
        FeatureSpec.from_dict({**TEST_SPEC.to_dict(), "normalization": "minmax"})


def test_prepare_input_refuses_noise_with_its_code_and_keeps_quiet_voices():
    from sand_gui.quality import Code

    noise = (0.01 * np.random.default_rng(0).standard_normal(3 * TEST_SPEC.sample_rate)).astype(np.float32)
    with pytest.raises(AudioError, match=r"^ID1_rhythmPA.wav: no voice found \(") as info:
        prepare_input(noise, spec=TEST_SPEC, task=get_task("rhythmPA"), name="ID1_rhythmPA.wav")
    assert info.value.code is Code.NO_VOICE
    quiet = ddk(3.0) * 10 ** (-45 / 20) / 0.3  # a -45 dBFS /pa/ train
    assert prepare_input(quiet, spec=TEST_SPEC, task=get_task("rhythmPA")).voiced_seconds > 2.5
