"""Plot functions draw into an Axes of a plain ``Figure`` (no pyplot), in Hz and seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from sandtest import TEST_SPEC, vowel

from sand_gui.features import compute_features, mel_db, trim
from sand_gui.pipeline import AnalysisResult, TaskResult
from sand_gui.plots import (
    PANEL_TITLES,
    add_colorbar,
    hz_to_mel,
    mel_ticks,
    mel_to_hz,
    model_view,
    plot_model_view,
    plot_probabilities,
    plot_spectrogram,
    plot_vote_matrix,
    plot_waveform,
)
from sand_gui.tasks import TASK_IDS
from sand_gui.vad import VoicedRange
from sand_gui.votes import majority_vote

SR = TEST_SPEC.sample_rate


def two_tones(hz=(300.0, 1000.0), seconds=2.0, lead=0.5):
    t = np.arange(int(seconds * SR)) / SR
    x = sum(0.2 * np.sin(2 * np.pi * f * t) for f in hz)
    pad = np.zeros(int(lead * SR))
    rng = np.random.default_rng(0)
    return (np.concatenate([pad, x, pad]) + 1e-4 * rng.standard_normal(len(t) + 2 * len(pad))).astype(np.float32)


def kept(x, lead=0.5) -> VoicedRange:
    """The tones' own span: a pure tone is no voice to the voice detector, and drawing needs none."""
    pad = int(lead * SR)
    return VoicedRange(pad, len(x) - pad, len(x))


def test_mel_scale_round_trip_and_ticks():
    f = np.array([0.0, 50.0, 700.0, 4000.0])
    np.testing.assert_allclose(mel_to_hz(hz_to_mel(f)), f, atol=1e-6)
    ticks = mel_ticks(50.0, 4000.0)
    assert ticks[0] == 50.0 and ticks[-1] == 4000.0 and ticks == sorted(ticks)
    gaps = np.diff(hz_to_mel(ticks))
    assert gaps.max() / gaps.min() < 1.3  # evenly spaced in mel


def test_model_view_is_exactly_what_the_model_sees():
    x = vowel(1.5, sr=SR)
    view = model_view(x, spec=TEST_SPEC, family="phonation")
    v = trim(x, spec=TEST_SPEC)
    wave = torch.from_numpy(x[v.start : v.stop].copy())
    np.testing.assert_array_equal(view["mel"], mel_db(wave, spec=TEST_SPEC, family="phonation").numpy())
    feats = compute_features(wave, spec=TEST_SPEC, family="phonation").numpy()
    np.testing.assert_array_equal(view["delta"], feats[1])
    np.testing.assert_array_equal(view["delta2"], feats[2])
    assert view["mel"].shape == (
        TEST_SPEC.n_mels,
        1 + (v.stop - v.start) // TEST_SPEC.hop_length,
    )


def test_waveform_axes_in_seconds_with_kept_region(tmp_path):
    x = two_tones()
    v = kept(x)
    ax = Figure().add_subplot()
    plot_waveform(ax, x, sample_rate=SR, voiced=v)
    assert ax.get_xlim() == pytest.approx((0, len(x) / SR))
    assert ax.get_xlabel() == "time (s)"
    spans = [p for p in ax.patches if p.get_label() == "kept (voice)"]
    assert len(spans) == 1
    span = spans[0]  # a Rectangle in data x, axes y
    assert (span.get_x(), span.get_x() + span.get_width()) == pytest.approx((v.start / SR, v.stop / SR))
    long = np.tile(x, 40)  # long takes are drawn as an envelope, not 1.2 M points
    ax2 = Figure().add_subplot()
    plot_waveform(ax2, long, sample_rate=SR)
    assert ax2.get_xlim() == pytest.approx((0, len(long) / SR)) and not ax2.lines


def test_spectrogram_axes_in_hz_and_seconds_and_rows_at_their_frequency():
    x = two_tones()
    view = model_view(x, spec=TEST_SPEC, family="phonation", voiced=kept(x))
    ax = Figure().add_subplot()
    mesh = plot_spectrogram(ax, view["mel"], spec=TEST_SPEC, family="phonation", title="phonationA")
    t = view["mel"].shape[1]
    assert ax.get_ylim() == pytest.approx(TEST_SPEC.band("phonation"))  # (50, 4000) Hz
    assert ax.get_xlim() == pytest.approx((0, (t - 1) * TEST_SPEC.hop_length / SR))
    assert ax.get_yscale() == "function" and ax.get_ylabel() == "frequency (Hz)"
    assert [float(tl.get_text()) for tl in ax.get_yticklabels()] == pytest.approx(list(ax.get_yticks()))
    assert mesh.get_clim() == pytest.approx((view["mel"].max() - TEST_SPEC.top_db, view["mel"].max()))
    # the two loudest rows are drawn at 300 Hz and 1000 Hz
    coords = mesh.get_coordinates()  # [rows + 1, cols + 1, (x, y)]
    centres = mel_to_hz((hz_to_mel(coords[:-1, 0, 1]) + hz_to_mel(coords[1:, 0, 1])) / 2)
    energy = view["mel"].mean(axis=1)
    low_band = centres < 600
    f_low = centres[low_band][np.argmax(energy[low_band])]
    f_high = centres[~low_band][np.argmax(energy[~low_band])]
    assert f_low == pytest.approx(300, rel=0.08) and f_high == pytest.approx(1000, rel=0.05)
    ax_d = Figure().add_subplot()
    mesh_d = plot_spectrogram(
        ax_d,
        torch.from_numpy(view["delta"]),
        spec=TEST_SPEC,
        family="rhythm",
        kind="delta",
    )
    lo, hi = mesh_d.get_clim()
    assert lo == -hi and ax_d.get_ylim() == pytest.approx(TEST_SPEC.band("rhythm"))
    with pytest.raises(ValueError, match="kind"):
        plot_spectrogram(ax_d, view["delta"], spec=TEST_SPEC, family="rhythm", kind="cqt")


def _result() -> AnalysisResult:
    rng = np.random.default_rng(1)
    tasks, probs = [], {}
    for task_id in TASK_IDS[:-1]:  # rhythmKA missing
        if task_id == "phonationO":
            tasks.append(
                TaskResult(
                    task_id,
                    f"ID042_{task_id}.wav",
                    error="ID042_phonationO.wav: no voice found.",
                )
            )
            continue
        p = rng.dirichlet(np.ones(5))
        probs[task_id] = p
        tasks.append(
            TaskResult(
                task_id,
                f"ID042_{task_id}.wav",
                int(np.argmax(p)) + 1,
                {c: float(v) for c, v in zip(range(1, 6), p)},
                2.0,
            )
        )
    verdict = majority_vote(probs, [1, 2, 3, 4, 5])
    return AnalysisResult(
        tasks,
        verdict,
        "label",
        {"name": "m", "synthetic": True},
        "CPU",
        "",
        1.0,
        ["rhythmKA"],
    )


def test_probabilities_and_vote_matrix(tmp_path):
    result = _result()
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    bars = plot_probabilities(ax1, result.tasks[0].probabilities, labels={1: "severe", 5: "healthy"})
    assert len(bars) == 5 and ax1.get_ylim() == (0, 1)
    image = plot_vote_matrix(ax2, result)
    M = image.get_array()
    assert M.shape == (8, 5)
    assert M.mask[TASK_IDS.index("phonationO")].all() and M.mask[TASK_IDS.index("rhythmKA")].all()
    assert M[0].sum() == pytest.approx(1.0)
    assert [t.get_text() for t in ax2.get_yticklabels()] == list(TASK_IDS)
    headers = [t for t in ax2.texts if t.get_text().startswith("class ")]
    assert [h.get_text().split("\n")[0] for h in headers] == [f"class {c}" for c in range(1, 6)]
    bold = [h.get_text() for h in headers if h.get_fontweight() == "bold"]
    assert bold == [f"class {result.verdict.final_class}\n{result.verdict.votes[result.verdict.final_class]} vote(s)"]


def test_a_full_display_renders_to_png(tmp_path):
    """The app's panel set, saved once so a person can look at it."""
    x = two_tones()
    v = kept(x)
    view = model_view(x, spec=TEST_SPEC, family="phonation", voiced=v)
    fig = Figure(figsize=(8, 9), layout="constrained")
    axes = fig.subplots(4, 1)
    plot_waveform(axes[0], x, sample_rate=SR, voiced=v)
    for ax, kind in zip(axes[1:], ("mel", "delta", "delta2")):
        fig.colorbar(
            plot_spectrogram(ax, view[kind], spec=TEST_SPEC, family="phonation", kind=kind),
            ax=ax,
        )
    out = tmp_path / "display.png"
    fig.savefig(out, dpi=60)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_model_view_panels_share_the_recordings_time_axis_with_colour_bars():
    """The display's layout: panels on the recording's own time axis, the spectrograms where
    the kept audio is, a colour bar (in its own column) beside each spectrogram."""
    x = two_tones()
    v = kept(x)
    view = model_view(x, spec=TEST_SPEC, family="phonation", voiced=v)
    fig = Figure(figsize=(8, 6), layout="constrained")
    axes = plot_model_view(
        fig,
        ["delta", "wave", "mel"],
        samples=x,
        voiced=v,
        view=view,
        spec=TEST_SPEC,
        family="phonation",
        title="Sustained /a/",
    )
    assert list(axes) == [
        "wave",
        "mel",
        "delta",
    ]  # always top to bottom in the display's order
    assert axes["wave"].get_title(loc="left") == "Sustained /a/ · " + PANEL_TITLES["wave"]
    assert axes["wave"].get_title() == "" and axes["mel"].get_title() == ""  # one title per panel, on the left
    for ax in axes.values():
        assert ax.get_xlim() == pytest.approx((0, len(x) / SR))
    t0 = v.start / SR
    frame = TEST_SPEC.hop_length / SR
    assert axes["mel"].collections[0].get_coordinates()[0, 0, 0] == pytest.approx(t0 - frame / 2)
    beside = [ax for ax in fig.axes if ax.get_subplotspec().colspan.start == 1]
    assert [b.get_ylabel() if b.axison else None for b in beside] == [
        None,
        "dB",
        "z-score",
    ]
    assert axes["delta"].get_xlabel() == "time in the recording (s)"
    assert axes["wave"].get_xlabel() == "" and axes["mel"].get_xlabel() == ""  # one time label, at the bottom
    fig.savefig(__import__("io").BytesIO(), format="png", dpi=50)  # it renders
    only = Figure(layout="constrained")
    d = plot_model_view(
        only,
        ("delta2",),
        samples=x,
        voiced=v,
        view=view,
        spec=TEST_SPEC,
        family="phonation",
    )
    assert d["delta2"].get_xlim() == pytest.approx((v.start / SR, v.stop / SR))  # without the waveform: the kept audio
    with pytest.raises(ValueError, match="no panel"):
        plot_model_view(
            Figure(),
            ("cqt",),
            samples=x,
            voiced=v,
            view=view,
            spec=TEST_SPEC,
            family="phonation",
        )
    bar = add_colorbar(plot_spectrogram(Figure().add_subplot(), view["mel"], spec=TEST_SPEC, family="phonation"))
    assert bar.ax.get_ylabel() == "dB"
