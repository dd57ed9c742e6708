"""The exploration core (``sand_gui.explore``): its spectrogram equals the model's mel dB with the
model's settings, every control changes the image, bad settings are one sentence, comparisons
share axes, the class mean of a small generated corpus, and figures saved at a chosen size."""

from __future__ import annotations

import dataclasses
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import soundfile as sf
from hypothesis import example, given, settings
from hypothesis import strategies as st
from matplotlib.figure import Figure
from sandtest import TEST_SPEC, ddk, vowel

from sand_gui import explore as E
from sand_gui.errors import SandError, StorageError, UsageError


def one_sentence(text: str) -> bool:
    return "\n" not in text and text.endswith(".") and len(text) < 500


@pytest.fixture(scope="module")
def take() -> np.ndarray:
    """A vowel with a quieter tail (the VAD threshold decides whether the tail is kept)."""
    x = vowel(2.0, seed=3)
    tail = 0.02 * np.sin(2 * np.pi * 200 * np.arange(8000) / 8000)
    return np.concatenate([x, tail.astype(np.float32), np.zeros(2000, np.float32)])


@pytest.mark.parametrize("family", ["phonation", "rhythm"])
def test_with_the_model_settings_it_equals_the_model_mel_db(family):
    import torch

    from sand_gui.features import mel_db

    x = ddk(2.0, seed=1) if family == "rhythm" else vowel(2.0, seed=1)
    ex = E.explore(x, sample_rate=8000, params=E.ExploreParams.from_spec(TEST_SPEC, family))
    ref = mel_db(torch.from_numpy(x), spec=TEST_SPEC, family=family).numpy()
    assert ex.db.shape == ref.shape == (TEST_SPEC.n_mels, 1 + len(x) // TEST_SPEC.hop_length)
    assert np.abs(ex.db - ref).max() < 0.02  # dB: float32 against float64 rounding only


def test_every_control_changes_the_image(take):
    base = E.ExploreParams.from_spec(TEST_SPEC, "phonation")
    ref = E.explore(take, sample_rate=8000, params=base)
    assert E.explore(take, sample_rate=8000, params=dataclasses.replace(base, n_mels=32)).db.shape == (
        32,
        ref.db.shape[1],
    )
    hop = E.explore(take, sample_rate=8000, params=dataclasses.replace(base, hop_length=64)).db
    assert hop.shape == (64, 1 + len(take) // 64)
    for change in ({"f_min": 300.0}, {"f_max": 2000.0}, {"n_fft": 1024}, {"db_range": 30.0}):
        db = E.explore(take, sample_rate=8000, params=dataclasses.replace(base, **change)).db
        assert db.shape == ref.db.shape and not np.allclose(db, ref.db), change
    assert E.explore(take, sample_rate=8000, params=dataclasses.replace(base, db_range=30.0)).db.min() > ref.db.min()
    strict = E.explore(take, sample_rate=8000, params=dataclasses.replace(base, vad_top_db=10.0))
    loose = E.explore(take, sample_rate=8000, params=dataclasses.replace(base, vad_top_db=60.0))
    assert strict.voiced.stop < loose.voiced.stop  # the quiet tail is kept only at 60 dB
    fig = Figure()
    mesh = E.plot_exploration(
        fig.add_subplot(), dataclasses.replace(ref, params=dataclasses.replace(base, cmap="viridis"))
    )
    assert mesh.get_cmap().name == "viridis"


def test_the_kept_region_is_the_model_vad_with_the_model_settings(take):
    from sand_gui.vad import detect_voice

    ex = E.explore(take, sample_rate=8000, params=E.ExploreParams.from_spec(TEST_SPEC, "phonation"))
    assert ex.voiced == detect_voice(
        take, top_db=TEST_SPEC.vad_top_db, frame_length=TEST_SPEC.vad_frame_length, hop_length=TEST_SPEC.vad_hop_length
    )


@pytest.mark.parametrize(
    "change, words",
    [
        ({"n_mels": 4}, "mel bins 4 is outside 8-512"),
        ({"n_fft": 100000}, "FFT size 100000 is outside"),
        ({"hop_length": 2048, "n_fft": 1024}, "hop 2048 is longer than the FFT size 1024"),
        ({"db_range": float("nan")}, "dB range nan is outside"),
        ({"vad_top_db": 200}, "VAD threshold (dB) 200 is outside"),
        ({"cmap": "no-such-map"}, "colour map 'no-such-map' is unknown"),
        ({"f_min": 3000.0, "f_max": 1000.0}, "band 3000-1000 Hz is empty"),
        ({"n_mels": 256, "n_fft": 128, "hop_length": 64}, "mel bins hold no FFT bin"),
        ({"f_min": -5.0}, "lowest frequency -5.0 is not a number of 0 or more"),
    ],
)
def test_invalid_settings_are_one_sentence(change, words):
    with pytest.raises(UsageError) as err:
        dataclasses.replace(E.ExploreParams(), **change).validate(sample_rate=8000)
    assert one_sentence(str(err.value)) and words in str(err.value), str(err.value)


def test_too_many_frames_are_refused_in_one_sentence():
    x = np.zeros(8000 * 100, np.float32)
    x[::7] = 0.1
    with pytest.raises(UsageError, match=r"at most 40000 can be drawn") as err:
        E.explore(x, sample_rate=8000, params=E.ExploreParams(hop_length=16, n_fft=64, n_mels=16))
    assert one_sentence(str(err.value))


values = st.one_of(
    st.integers(-10, 20000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.text(max_size=5),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(field=st.sampled_from([f.name for f in dataclasses.fields(E.ExploreParams)]), value=values)
@example(field="f_max", value=3.1747145928342432e-102)  # a band too narrow for floats: every mel bin empty
def test_any_setting_either_draws_or_says_one_sentence(field, value):
    params = dataclasses.replace(E.ExploreParams(n_fft=256, hop_length=128, n_mels=32), **{field: value})
    try:
        ex = E.explore(vowel(0.5, lead=0.1), sample_rate=8000, params=params)
    except SandError as exc:
        assert one_sentence(str(exc)), str(exc)
    else:
        assert np.isfinite(ex.db).all() and ex.db.shape[0] == params.n_mels


def test_a_comparison_shares_time_frequency_and_colour_scale():
    p = E.ExploreParams.from_spec(TEST_SPEC, "phonation")
    short = E.explore(vowel(1.0, seed=1, level=0.05), sample_rate=8000, params=p)
    long = E.explore(vowel(3.0, seed=2, level=0.5), sample_rate=8000, params=p)
    fig = Figure(layout="constrained")
    axes = E.draw_comparison(fig, [("quiet, short", short), ("loud, long", long)])
    assert len(axes) == 2
    assert axes[0].get_xlim() == axes[1].get_xlim() == (0.0, long.seconds)
    assert axes[0].get_ylim() == axes[1].get_ylim() == pytest.approx(p.band(8000))
    clims = {ax.collections[0].get_clim() for ax in axes}
    assert clims == {(long.clim[1] - p.db_range, long.clim[1])}  # the loudest sets the scale for all
    with pytest.raises(UsageError, match="at least one recording"):
        E.draw_comparison(Figure(), [])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Five synthetic patients, one per class (training.synth), opened as a DatasetIndex."""
    from sand_gui.dataset_index import DatasetIndex
    from training.synth.corpus import generate_corpus

    out = tmp_path_factory.mktemp("corpus")
    generate_corpus(out, patients=5, seed=7, class_priors="uniform")
    return DatasetIndex.open(out)


@pytest.mark.slow  # generating the corpus takes a few seconds
def test_class_means_of_a_generated_corpus(corpus, tmp_path):
    bad = tmp_path / "ID999_phonationA.wav"
    bad.write_bytes(b"RIFF not really a wave file")
    stand_in = dataclasses.replace(corpus.rows[0], patient_id="ID999", label=1)
    stand_in.cells = {"phonationA": dataclasses.replace(corpus.rows[0].cells["phonationA"], path=bad)}
    seen = []
    params = E.ExploreParams.from_spec(TEST_SPEC, "phonation")
    cm = E.class_mean(
        [*corpus.rows, stand_in], "phonationA", sample_rate=8000, params=params, n_frames=50,
        progress=lambda *a: seen.append(a),
    )  # fmt: skip
    assert cm.counts == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1}
    assert [s[:2] for s in seen] == [(i, 6) for i in range(1, 7)]
    assert len(cm.skipped) == 1 and cm.skipped[0].startswith("ID999 phonationA: ") and "\n" not in cm.skipped[0]
    for m in cm.means.values():
        assert m.shape == (TEST_SPEC.n_mels, 50) and m.max() <= 0 and m.min() >= -params.db_range
    assert not np.allclose(cm.means[1], cm.means[5])
    fig = Figure(layout="constrained")
    axes = E.draw_class_means(fig, cm)
    assert {axes[c].collections[0].get_clim() for c in axes} == {(-params.db_range, 0.0)}
    with pytest.raises(E.Cancelled) as err:
        E.class_mean(corpus.rows, "rhythmPA", sample_rate=8000, params=params, cancel=lambda: len(seen) > 6,
                     progress=lambda *a: seen.append(a))  # fmt: skip
    assert one_sentence(str(err.value)) and "after 1 of 5" in str(err.value)


def test_a_class_without_recordings_says_so():
    cm = E.ClassMean("phonationA", E.ExploreParams(), 8000, {3: np.zeros((128, 10), np.float32)}, {3: 1})
    fig = Figure(layout="constrained")
    axes = E.draw_class_means(fig, cm)
    assert [t.get_text() for t in axes[1].texts] == ["no recordings"] and not axes[1].collections
    assert axes[3].collections


def drawn(width=4.0, height=3.0) -> Figure:
    fig = Figure(figsize=(6, 4), layout="constrained")
    ex = E.explore(vowel(1.0), sample_rate=8000, params=E.ExploreParams.from_spec(TEST_SPEC, "phonation"))
    E.draw_exploration(fig, vowel(1.0), ex, title="ID042 phonationA")
    return fig


def test_figures_are_saved_at_the_chosen_size_and_dpi(tmp_path):
    from PIL import Image

    fig = drawn()
    png = E.save_figure(fig, tmp_path / "f.png", width_in=4.0, height_in=2.5, dpi=150)
    with Image.open(png) as im:
        assert im.size == (600, 375)
    svg = E.save_figure(fig, tmp_path / "f.svg", width_in=4.0, height_in=2.5, dpi=150)
    root = ET.parse(svg).getroot()
    assert (root.get("width"), root.get("height")) == ("288pt", "180pt")
    pdf = E.save_figure(fig, tmp_path / "f.PDF", width_in=5.0, height_in=3.0, dpi=300).read_bytes()
    assert pdf.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and (float(box[1]), float(box[2])) == (360.0, 216.0)
    assert tuple(fig.get_size_inches()) == (6.0, 4.0)  # the figure on screen is not left resized
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.PDF", "f.png", "f.svg"]  # no temporary left


@pytest.mark.parametrize(
    "name, size, words",
    [
        ("f.jpg", (4, 3, 100), "the extension .jpg is not one of .png, .svg, .pdf"),
        ("f.png", (0.1, 3, 100), "is outside 1-60 in"),
        ("f.png", (4, 3, 5000), "5000 dpi is outside 50-1200"),
        ("f.png", (60, 60, 1200), "more than 200 megapixels"),
    ],
)
def test_bad_figure_requests_are_one_sentence(tmp_path, name, size, words):
    with pytest.raises(UsageError) as err:
        E.save_figure(drawn(), tmp_path / name, width_in=size[0], height_in=size[1], dpi=size[2])
    assert one_sentence(str(err.value)) and words in str(err.value) and name in str(err.value)


def test_an_unwritable_place_is_one_sentence_and_leaves_nothing(tmp_path):
    with pytest.raises(StorageError) as err:
        E.save_figure(drawn(), tmp_path / "missing" / "f.png", width_in=4, height_in=3, dpi=100)
    assert one_sentence(str(err.value)) and "f.png" in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_load_samples_keeps_the_file_rate_unless_asked(tmp_path):
    path = tmp_path / "ID042_phonationA.wav"
    sf.write(path, vowel(1.0, sr=16000), 16000, subtype="PCM_16")
    x, sr = E.load_samples(path)
    assert sr == 16000 and len(x) == 32000
    y, sr2 = E.load_samples(path, sample_rate=8000)
    assert sr2 == 8000 and abs(len(y) - 16000) <= 1
