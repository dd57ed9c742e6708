"""Training-time waveform augmentation: each operation does what it says, copies are
deterministic per (seed, recording, copy), their features come through the core's path and the
cache, and a config without augmentation trains on exactly the batches it always did."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sandtest import vowel
from train_helpers import TINY_FEATURES, write_config

from sand_gui.errors import UsageError
from training.config import CONFIG_DIR, TrainConfig, load_config
from training.data import Item, RecordingRef, batches, load_items, load_variants, make_variant, random_window
from training.wave_augment import (
    WaveAugment,
    _channel,
    add_noise,
    augment_wave,
    change_speed,
    check_available,
    eq_curve,
    recolour,
    shift_pitch,
    speech_rms,
    variant_rng,
)

SR = 8000
AUG_KEYS = ("aug_variants", "aug_codec_p", "aug_reverb_p", "aug_noise_p", "aug_gain_db", "aug_speed", "aug_eq_db")


def _f0(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / SR)[np.argmax(spectrum)])


def _tone(f0: float = 150.0, seconds: float = 3.0) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * f0 * np.arange(int(seconds * SR)) / SR)).astype(np.float32)


@pytest.mark.parametrize("semitones", [-0.5, 0.5, 2.0])
def test_pitch_shift_moves_f0_by_the_ratio_and_keeps_the_length(semitones):
    x = _tone()
    y = shift_pitch(x, semitones=semitones, sample_rate=SR)
    assert len(y) == len(x)
    assert _f0(y) == pytest.approx(150 * 2 ** (semitones / 12), rel=0.005)


def test_speed_change_scales_length_and_pitch_together():
    x = _tone()
    y = change_speed(x, factor=1.05, sample_rate=SR)
    assert len(y) == pytest.approx(len(x) / 1.05, abs=2)
    assert _f0(y) == pytest.approx(150 * 1.05, rel=0.005)


@pytest.mark.parametrize("colour", ["white", "pink", "brown"])
def test_noise_is_added_at_the_asked_snr(colour):
    x = _tone()
    y = add_noise(x, snr_db=15.0, colour=colour, rng=np.random.default_rng(0))
    noise = y - x
    assert 20 * np.log10(speech_rms(x) / np.sqrt(np.mean(noise**2))) == pytest.approx(15.0, abs=0.1)
    low = np.abs(np.fft.rfft(noise))[: len(noise) // 8].mean() / np.abs(np.fft.rfft(noise))[len(noise) // 4 :].mean()
    assert (low > 3) == (colour != "white")  # coloured noise has its power at low frequencies


def test_copies_are_deterministic_per_seed_recording_and_copy():
    x = vowel(2.0, seed=1)
    aug = WaveAugment(noise_p=1.0, gain_db=6.0, speed=0.05, pitch_semitones=0.5)
    a, what = augment_wave(x, sample_rate=SR, aug=aug, rng=variant_rng(3, "ID001", "phonationA", 0))
    b, _ = augment_wave(x, sample_rate=SR, aug=aug, rng=variant_rng(3, "ID001", "phonationA", 0))
    c, _ = augment_wave(x, sample_rate=SR, aug=aug, rng=variant_rng(3, "ID001", "phonationA", 1))
    d, _ = augment_wave(x, sample_rate=SR, aug=aug, rng=variant_rng(3, "ID002", "phonationA", 0))
    assert np.array_equal(a, b)
    assert not np.array_equal(a[: len(c)], c[: len(a)]) and not np.array_equal(a[: len(d)], d[: len(a)])
    assert [w.split()[0] for w in what] == ["speed", "pitch", what[2].split()[0], "gain"] and "noise" in what[2]


def test_eq_recolours_the_spectrum_by_the_drawn_curve_and_keeps_the_level():
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(3 * SR)).astype(np.float32)
    flat = recolour(x, sample_rate=SR, gains_db=np.zeros(6))
    assert np.allclose(flat, x, atol=1e-5)
    tilted = recolour(x, sample_rate=SR, gains_db=np.array([-9.0, -6, -3, 3, 6, 9]))
    assert speech_rms(tilted) == pytest.approx(speech_rms(x), rel=1e-3)

    def band_db(y, lo, hi):
        power = np.abs(np.fft.rfft(y)) ** 2
        freqs = np.fft.rfftfreq(len(y), 1 / SR)
        return 10 * np.log10(power[(freqs >= lo) & (freqs < hi)].mean())

    change = (band_db(tilted, 3000, 3900) - band_db(x, 3000, 3900)) - (band_db(tilted, 120, 200) - band_db(x, 120, 200))
    assert change == pytest.approx(17.0, abs=2.5)  # about +8.5 dB near Nyquist against about -8.5 dB near 150 Hz
    curve = eq_curve(1001, sample_rate=SR, gains_db=np.array([6.0, 0, 0, 0, 0, -6]))
    assert curve[0] == pytest.approx(10 ** (6 / 20)) and curve[-1] == pytest.approx(10 ** (-6 / 20))


def test_eq_changes_no_other_draw_of_a_copy_and_keeps_the_pitch():
    x = vowel(2.0, seed=1)
    base = WaveAugment(noise_p=1.0, gain_db=6.0, speed=0.05)
    with_eq = WaveAugment(noise_p=1.0, gain_db=6.0, speed=0.05, eq_db=6.0)
    a, what_a = augment_wave(x, sample_rate=SR, aug=base, rng=variant_rng(3, "ID001", "phonationA", 0))
    b, what_b = augment_wave(x, sample_rate=SR, aug=with_eq, rng=variant_rng(3, "ID001", "phonationA", 0))
    assert what_b[0].startswith("EQ ") and what_b[1:] == what_a  # same speed, noise, SNR and gain
    assert len(a) == len(b) and not np.array_equal(a, b)
    tone = _tone()
    y, _ = augment_wave(tone, sample_rate=SR, aug=WaveAugment(eq_db=12.0), rng=np.random.default_rng(5))
    assert _f0(y) == pytest.approx(150.0, abs=1.0)


def test_eq_off_keeps_the_old_cache_name_and_on_makes_a_new_one():
    import hashlib
    import json
    from dataclasses import asdict

    aug = WaveAugment(noise_p=0.3, gain_db=6.0)
    old = {k: v for k, v in asdict(aug).items() if k not in ("channels", "eq_db")}  # the settings before eq_db
    assert aug.key() == hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:12]
    assert WaveAugment(noise_p=0.3, gain_db=6.0, eq_db=6.0).key() != aug.key()
    assert WaveAugment(eq_db=6.0).active


@settings(max_examples=15, deadline=None)
@given(
    noise=st.floats(0, 1),
    gain=st.floats(0, 40),
    speed=st.floats(0, 0.3),
    pitch=st.floats(0, 4),
    snr=st.tuples(st.floats(-10, 80), st.floats(-10, 80)).map(sorted),
    seed=st.integers(0, 2**32 - 1),
    eq=st.floats(0, 24),
)
def test_any_allowed_setting_gives_finite_full_scale_audio(noise, gain, speed, pitch, snr, seed, eq):
    aug = WaveAugment(noise_p=noise, gain_db=gain, speed=speed, pitch_semitones=pitch, snr_db=tuple(snr), eq_db=eq)
    y, _ = augment_wave(vowel(1.0, seed=0), sample_rate=SR, aug=aug, rng=np.random.default_rng(seed))
    assert y.dtype == np.float32 and np.isfinite(y).all() and len(y) > 0.7 * SR
    if gain > 0 or eq > 0:
        assert np.abs(y).max() <= 1.0


def test_codecs_and_rooms_need_a_channel_model():
    aug = WaveAugment(codec_p=0.5)
    if _channel() is None:
        with pytest.raises(UsageError) as info:
            check_available(aug)
        assert "aug_codec_p" in str(info.value) and "\n" not in str(info.value)
    else:  # the generator's channels exist: codec copies go through a phone codec, room copies a room
        check_available(aug)
        x = vowel(2.0)
        for setting, family in (
            (WaveAugment(codec_p=1.0), ("telephone", "voip")),
            (WaveAugment(reverb_p=1.0), ("room",)),
        ):
            y, what = augment_wave(x, sample_rate=SR, aug=setting, rng=np.random.default_rng(0))
            assert len(what) == 1 and what[0].split()[0] in family and len(y) == len(x)
            assert np.isfinite(y).all() and not np.allclose(y, x, atol=1e-3)
    check_available(WaveAugment(noise_p=1.0))  # what needs nothing else is always available


def test_aug_channels_keeps_a_held_out_channel_out_of_every_copy():
    """A LOMO recipe trains without the VoIP codec: ``aug_channels`` without voip must never
    give a voip copy, whatever the draw; the default list draws both codec families."""
    if _channel() is None:
        pytest.skip("the generator's channels are not installed")
    x = vowel(1.0)
    cfg = load_config(CONFIG_DIR / "robust.yaml", ["aug_channels=[telephone, room]"])
    only = WaveAugment.from_config(cfg)
    assert only.codec_families() == ("telephone",) and only.room_families() == ("room",)
    seen = {
        augment_wave(
            x,
            sample_rate=SR,
            aug=WaveAugment(codec_p=1.0, channels=only.channels),
            rng=variant_rng(1, "ID001", "phonationA", k),
        )[1][0].split()[0]
        for k in range(12)
    }
    assert seen == {"telephone"}
    both = {
        augment_wave(x, sample_rate=SR, aug=WaveAugment(codec_p=1.0), rng=variant_rng(1, "ID001", "phonationA", k))[1][
            0
        ].split()[0]
        for k in range(12)
    }
    assert both == {"telephone", "voip"}
    assert WaveAugment().key() == WaveAugment(channels=("telephone", "voip", "room")).key()  # old caches keep names
    assert only.key() != WaveAugment.from_config(load_config(CONFIG_DIR / "robust.yaml")).key()


@pytest.mark.parametrize(
    "value, ok",
    [("[telephone]", True), ("telephone,room", True), ("[]", False), ("[smartphone]", False), ("3", False)],
)
def test_aug_channels_is_checked_with_the_config(value, ok, tmp_path):
    if ok:
        assert load_config(CONFIG_DIR / "robust.yaml", [f"aug_channels={value}"]).aug_channels
        return
    with pytest.raises(UsageError) as info:
        load_config(CONFIG_DIR / "robust.yaml", [f"aug_channels={value}"])
    assert "aug_channels" in str(info.value) and "telephone, voip, room" in str(info.value)


def test_codec_copies_without_a_codec_family_are_refused_before_any_data():
    if _channel() is None:
        pytest.skip("the generator's channels are not installed")
    with pytest.raises(UsageError) as info:
        check_available(WaveAugment(codec_p=0.3, channels=("room",)))
    assert str(info.value).startswith("aug_codec_p is 0.3 but aug_channels holds none of telephone, voip")


# --- the seed recipe is untouched --------------------------------------------------------


def test_augmentation_is_off_in_the_defaults_and_the_seed_configs():
    for cfg in [TrainConfig(), load_config(CONFIG_DIR / "convnext_base.yaml")]:  # the seed's recipe
        assert all(not getattr(cfg, k) for k in AUG_KEYS) and cfg.aug_pitch_semitones == 0
        assert cfg.loss == "focal" and cfg.vote == "majority"
        assert not WaveAugment.from_config(cfg).active


def test_batches_without_copies_are_exactly_the_old_batches():
    """The pre-augmentation algorithm, written out: one random window per sample, in order."""
    g = torch.Generator().manual_seed(0)
    items = [
        Item(RecordingRef(f"P{i}", "phonationA", None, 1 + i % 5), torch.randn(3, 8, 20 + 7 * i, generator=g))
        for i in range(6)
    ]
    order = [5, 0, 3, 3, 1, 4, 2]
    new = list(batches(items, order, batch_size=3, n_frames=16, class_numbers=[1, 2, 3, 4, 5], generator=g_seed(9)))
    old_gen, old = g_seed(9), []
    for s in range(0, len(order), 3):
        chunk = order[s : s + 3]
        x = torch.stack([random_window(items[i].features, n_frames=16, generator=old_gen) for i in chunk])
        old.append((x, torch.tensor([items[i].label - 1 for i in chunk])))
    assert len(new) == len(old)
    for (x, y), (x0, y0) in zip(new, old):
        assert torch.equal(x, x0) and torch.equal(y, y0)


def g_seed(seed: int):
    return torch.Generator().manual_seed(seed)


def test_batches_draw_clean_and_augmented_copies():
    clean, copy = torch.zeros(3, 4, 16), torch.ones(3, 4, 16)
    items = [Item(RecordingRef("P", "phonationA", None, 3), clean, [copy])]
    drawn = torch.cat(
        [
            x
            for x, _ in batches(
                items, [0] * 64, batch_size=8, n_frames=16, class_numbers=[1, 2, 3, 4, 5], generator=g_seed(0)
            )
        ]
    )
    means = drawn.mean(dim=(1, 2, 3))
    assert set(means.tolist()) == {0.0, 1.0} and 16 < int(means.sum()) < 48  # both, roughly half each


# --- copies through the core's path and the cache -----------------------------------------


def test_variant_features_come_through_the_core_and_the_cache(tmp_path):
    from training.config import make_spec

    wav = tmp_path / "training" / "phonationA" / "ID001_phonationA.wav"
    wav.parent.mkdir(parents=True)
    sf.write(wav, vowel(2.0, f0=160.0), SR, subtype="PCM_16")
    spec = make_spec(TINY_FEATURES)
    ref = RecordingRef("ID001", "phonationA", wav, 3)
    item = Item(ref, make_variant(ref, spec=spec, aug=WaveAugment(), seed=0, variant=0))  # no-op copy = clean
    from training.data import make_features

    assert torch.allclose(item.features, make_features(ref, spec=spec), atol=1e-5)
    aug = WaveAugment(noise_p=1.0, snr_db=(20.0, 20.0), pitch_semitones=1.0)
    skipped = load_variants([item], spec=spec, aug=aug, seed=5, count=2, cache=tmp_path / "cache")
    assert skipped == [] and len(item.variants) == 2
    first = [v.clone() for v in item.variants]
    assert not torch.allclose(first[0][..., :10], first[1][..., :10])
    assert torch.allclose(first[1], make_variant(ref, spec=spec, aug=aug, seed=5, variant=1))
    files = sorted((tmp_path / "cache").rglob("*.safetensors"))
    assert len(files) == 2 and all(f.parent.parent.parent.name.startswith(f"aug-{aug.key()}-s5-v") for f in files)
    load_variants([item], spec=spec, aug=aug, seed=5, count=2, cache=tmp_path / "cache")  # from the cache
    assert all(torch.equal(a, b) for a, b in zip(first, item.variants))


@pytest.mark.slow
def test_fit_with_augmented_copies_trains_and_records_the_recipe(tmp_path, corpus, cache_dir, capsys):
    from sand_gui.bundle import read_card
    from training.loop import fit

    cfg = load_config(
        write_config(
            tmp_path / "aug.yaml",
            data=str(corpus),
            cache=str(cache_dir),
            run_dir=str(tmp_path / "run"),
            epochs=1,
            aug_variants=1,
            aug_noise_p=1.0,
            aug_gain_db=3.0,
            aug_speed=0.05,
        )
    )
    result = fit(cfg)
    recipe = read_card(result.bundle).training_data["recipe"]
    assert recipe["aug_variants"] == 1 and recipe["aug_noise_p"] == 1.0 and recipe["aug_speed"] == 0.05
    key = WaveAugment.from_config(cfg).key()
    copies = list(cache_dir.glob(f"aug-{key}-s{cfg.seed}-v0/*/*/*.safetensors"))
    unusable = [line for line in capsys.readouterr().err.splitlines() if ": augmented copy 0: " in line]
    # one copy of each of the 80 training recordings (none of the validation ones), or a line saying why not
    assert len(copies) + len(unusable) == 80 and len(copies) >= 72


def test_copies_and_features_made_by_two_processes_equal_those_made_by_one(tmp_path):
    """``data_workers`` changes who computes, never what: features and augmented copies from a
    spawned pool are byte-identical to the serial ones, in the same order, with the same skips."""
    root = tmp_path / "corpus"
    refs = []
    for i, f0 in enumerate((110.0, 160.0, 220.0)):
        for task in ("phonationA", "rhythmPA"):
            path = root / task / f"ID00{i}_{task}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, vowel(1.5, f0=f0) if task == "phonationA" else vowel(1.5, f0=f0) * 0.5, SR, subtype="PCM_16")
            refs.append(RecordingRef(f"ID00{i}", task, path, 3))
    silent = root / "phonationA" / "ID009_phonationA.wav"
    sf.write(silent, np.zeros(SR, dtype=np.float32), SR, subtype="PCM_16")
    refs.append(RecordingRef("ID009", "phonationA", silent, 3))
    from training.config import make_spec

    spec = make_spec(TINY_FEATURES)
    aug = WaveAugment(noise_p=0.5, gain_db=3.0, speed=0.05)
    one, skip1 = load_items(refs, spec=spec, workers=1)
    two, skip2 = load_items(refs, spec=spec, workers=2)
    assert [it.ref for it in one] == [it.ref for it in two] and len(one) == 6 and skip1 == skip2 and len(skip1) == 1
    assert all(torch.equal(a.features, b.features) for a, b in zip(one, two))
    s1 = load_variants(one, spec=spec, aug=aug, seed=3, count=2, workers=1)
    s2 = load_variants(two, spec=spec, aug=aug, seed=3, count=2, workers=2, cache=tmp_path / "cache")
    assert s1 == s2
    for a, b in zip(one, two):
        assert len(a.variants) == len(b.variants) == 2
        assert all(torch.equal(x, y) for x, y in zip(a.variants, b.variants))
    again = [Item(it.ref, it.features) for it in two]
    load_variants(again, spec=spec, aug=aug, seed=3, count=2, workers=2, cache=tmp_path / "cache")  # from the cache
    assert all(torch.equal(x, y) for a, b in zip(again, one) for x, y in zip(a.variants, b.variants))
