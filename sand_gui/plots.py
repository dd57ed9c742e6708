"""What the application draws, as functions that draw into a matplotlib ``Axes`` you pass in.

No pyplot and no Qt here: the Qt view owns a ``FigureCanvasQTAgg(Figure())`` and calls these;
the report draws with the same functions into PDF pages. The spectrogram panels show exactly
what the model sees: ``model_view`` runs the core's ``features.mel_db`` (the dB panel) and
``features.compute_features`` (the normalised delta and delta-delta channels) with the
model's ``FeatureSpec`` on the VAD-trimmed audio.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from .classes import CLASS_NUMBERS
from .features import FeatureSpec
from .tasks import TASK_IDS
from .vad import VoicedRange

KINDS = ("mel", "delta", "delta2")
KIND_TITLES = {
    "mel": "mel spectrogram (dB)",
    "delta": "Δ (normalised)",
    "delta2": "Δ² (normalised)",
}
KIND_UNITS = {"mel": "dB", "delta": "z-score", "delta2": "z-score"}  # colour-bar labels
PANELS = ("wave", *KINDS)  # what ``plot_model_view`` can lay out, top to bottom
PANEL_TITLES = {
    "wave": "waveform (green: kept by the voice detector)",
    "mel": "mel spectrogram (dB) of the kept audio",
    "delta": "Δ, standardised: what the model sees",
    "delta2": "Δ², standardised: what the model sees",
}
PANEL_HEIGHTS = {
    "wave": 1.0,
    "mel": 1.3,
    "delta": 1.0,
    "delta2": 1.0,
}  # relative row heights
WAVE_POINTS = 4000  # a long take is drawn as a min/max envelope of this many columns
KEPT_COLOR = "#2ca02c"
OUTSIDE_COLOR = "#e9e9e9"  # spectrogram background where the voice detector dropped the audio


def hz_to_mel(f):
    """HTK mel scale (the one ``features`` uses)."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)


def mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, dtype=float) / 2595.0) - 1.0)


def mel_ticks(f_min: float, f_max: float, *, n: int = 6) -> list[float]:
    """About ``n`` tick positions in Hz, evenly spaced in mel and rounded to 2 significant digits."""
    ticks = []
    for f in mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n)):
        r = float(f) if f <= 0 else float(np.round(f, -int(np.floor(np.log10(f))) + 1))
        r = min(max(r, f_min), f_max)
        if not ticks or r > ticks[-1]:
            ticks.append(r)
    return ticks


def model_view(
    samples: np.ndarray,
    *,
    spec: FeatureSpec,
    family: str,
    voiced: VoicedRange | None = None,
) -> dict[str, np.ndarray]:
    """The three panels the model sees, of ``samples`` [shape=(n,)] at ``spec.sample_rate``:
    ``{"mel": dB [shape=(n_mels, t)], "delta": ..., "delta2": ...}`` (deltas normalised, as fed
    to the network). ``voiced`` is the kept range; None trims with the spec's VAD."""
    import torch

    from .features import mel_and_features, trim

    if voiced is None:
        voiced = trim(samples, spec=spec)
    wave = torch.from_numpy(np.ascontiguousarray(samples[voiced.start : voiced.stop], dtype=np.float32))
    mel, feats = mel_and_features(wave, spec=spec, family=family)
    return {"mel": mel.numpy(), "delta": feats[1].numpy(), "delta2": feats[2].numpy()}


def plot_waveform(
    ax: Axes,
    samples: np.ndarray,
    *,
    sample_rate: int,
    voiced: VoicedRange | tuple[int, int] | None = None,
    legend: bool = True,
):
    """Waveform of ``samples`` [shape=(n,)] against seconds; the VAD-kept range shaded.

    ``voiced`` is in samples of this signal (a ``VoicedRange`` or ``(start, stop)``);
    ``legend=False`` leaves the legend out (a title can say what the shading means instead,
    where a short panel has no room for a legend beside the signal).
    """
    x = np.asarray(samples, dtype=np.float32).reshape(len(samples), -1).mean(axis=1)
    n = len(x)
    seconds = n / sample_rate
    if n > 2 * WAVE_POINTS:
        cols = WAVE_POINTS
        edges = np.linspace(0, n, cols + 1).astype(int)
        lo = np.minimum.reduceat(x, edges[:-1])
        hi = np.maximum.reduceat(x, edges[:-1])
        t = (edges[:-1] + edges[1:]) / 2 / sample_rate
        ax.fill_between(t, lo, hi, color="#1f77b4", linewidth=0.5)
    else:
        ax.plot(np.arange(n) / sample_rate, x, color="#1f77b4", linewidth=0.6)
    if voiced is not None:
        start, stop = (voiced.start, voiced.stop) if isinstance(voiced, VoicedRange) else voiced
        ax.axvspan(
            start / sample_rate,
            stop / sample_rate,
            color=KEPT_COLOR,
            alpha=0.18,
            label="kept (voice)",
        )
        if legend:
            ax.legend(loc="upper right", fontsize="small", frameon=False)
    peak = float(np.max(np.abs(x))) if n else 0.0
    lim = max(peak * 1.05, 1e-3)
    ax.set_xlim(0, max(seconds, 1e-3))
    ax.set_ylim(-lim, lim)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")


def plot_spectrogram(
    ax: Axes,
    S,
    *,
    spec: FeatureSpec,
    family: str,
    title: str = "",
    kind: str = "mel",
    t0: float = 0.0,
):
    """One model panel ``S`` [shape=(n_mels, t)]: x in seconds, y in Hz on a mel scale.

    ``kind``: ``mel`` (dB, magma) or ``delta`` / ``delta2`` (normalised, diverging colours).
    The y axis has a mel scale whose ticks are labelled in Hz; each row is drawn around its
    bin's centre frequency. ``t0`` is the time of frame 0 in seconds (the start of the kept
    audio, to draw on the recording's own time axis). Returns the mesh (for a colour bar).
    """
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    S = np.asarray(S.detach().cpu() if hasattr(S, "detach") else S, dtype=np.float32)
    n_mels, t = S.shape
    f_min, f_max = spec.band(family)
    frame = spec.hop_length / spec.sample_rate
    ax.set_yscale("function", functions=(hz_to_mel, mel_to_hz))
    if kind == "mel":
        style = {
            "cmap": "magma",
            "vmin": float(S.max()) - spec.top_db,
            "vmax": float(S.max()),
        }
    else:
        v = float(np.percentile(np.abs(S), 99)) or 1.0
        style = {"cmap": "RdBu_r", "vmin": -v, "vmax": v}
    # bin i of the HTK filterbank is centred on mel point i + 1 of n_mels + 2 evenly spaced
    # points; rows reach half-way to their neighbours (the outer ones to the band's edges).
    points = np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2)
    y = mel_to_hz((points[:-1] + points[1:]) / 2)
    y[0], y[-1] = f_min, f_max
    # centred frames: frame k covers (k - 1/2, k + 1/2) * hop / sr
    x = t0 + (np.arange(t + 1) - 0.5) * frame
    image = ax.pcolormesh(x, y, S, shading="flat", rasterized=True, **style)
    ax.set_xlim(t0, t0 + max((t - 1) * frame, frame / 2))
    ax.set_ylim(f_min, f_max)
    ticks = mel_ticks(f_min, f_max)
    ax.set_yticks(ticks, [f"{f:.0f}" for f in ticks])
    ax.minorticks_off()
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    ax.set_title(title or KIND_TITLES[kind], fontsize="medium")
    return image


def add_colorbar(
    mesh,
    *,
    ax: Axes | None = None,
    cax: Axes | None = None,
    kind: str = "mel",
    fontsize: float = 8,
):
    """A colour bar for a ``plot_spectrogram`` mesh, labelled with the panel's unit (dB or z-score).

    Drawn into ``cax`` when given (a slot of its own, so stacked panels keep one x extent),
    else beside ``ax``."""
    fig = (cax or ax or mesh.axes).figure
    bar = fig.colorbar(mesh, cax=cax, ax=None if cax is not None else (ax or mesh.axes))
    bar.set_label(KIND_UNITS[kind], fontsize=fontsize)
    bar.ax.tick_params(labelsize=fontsize)
    return bar


def plot_model_view(
    fig,
    panels: Sequence[str],
    *,
    samples: np.ndarray,
    voiced: VoicedRange,
    view: Mapping[str, np.ndarray],
    spec: FeatureSpec,
    family: str,
    title: str = "",
    fontsize: float = 8,
) -> dict[str, Axes]:
    """Lay out the chosen ``panels`` (from ``PANELS``, drawn top to bottom) in ``fig``, a plain
    ``Figure`` with ``layout="constrained"``; returns ``{panel: Axes}``.

    ``samples`` [shape=(n,)] at ``spec.sample_rate`` is the whole recording and ``voiced`` its
    kept range; ``view`` is ``model_view``'s output for it. Every panel shares one time axis,
    the recording's own (the spectrograms start where the kept audio starts); when the
    waveform is left out the axis spans the kept audio only. The dB and Δ panels have a colour
    bar each in a column of their own, so the panels' x extents line up. ``title`` goes above
    the first panel.
    """
    panels = [p for p in PANELS if p in panels]
    if not panels:
        raise ValueError(f"no panel to draw; choose from {', '.join(PANELS)}")
    sr = spec.sample_rate
    grid = fig.add_gridspec(
        len(panels),
        2,
        width_ratios=[1, 0.015],
        height_ratios=[PANEL_HEIGHTS[p] for p in panels],
    )
    axes: dict[str, Axes] = {}
    first = None
    for row, panel in enumerate(panels):
        ax = fig.add_subplot(grid[row, 0], sharex=first)
        first = first or ax
        side = fig.add_subplot(grid[row, 1])
        if panel == "wave":
            plot_waveform(ax, samples, sample_rate=sr, voiced=voiced, legend=False)
            ax.set_ylabel("amplitude", fontsize=fontsize)
            side.axis("off")  # the column the colour bars use stays empty beside the waveform
        else:
            ax.set_facecolor(OUTSIDE_COLOR)
            mesh = plot_spectrogram(
                ax,
                view[panel],
                spec=spec,
                family=family,
                kind=panel,
                t0=voiced.start / sr,
            )
            ax.set_title("")  # the panel's title goes on the left, below
            add_colorbar(mesh, cax=side, kind=panel, fontsize=fontsize)
            ax.set_ylabel("Hz", fontsize=fontsize)
        text = PANEL_TITLES[panel] if row or not title else f"{title} · {PANEL_TITLES[panel]}"
        ax.set_title(text, fontsize=fontsize + 1, loc="left", pad=3)
        ax.tick_params(labelsize=fontsize)
        ax.set_xlabel("")
        if row < len(panels) - 1:
            ax.tick_params(labelbottom=False)
        axes[panel] = ax
    last = axes[panels[-1]]
    last.set_xlabel("time in the recording (s)", fontsize=fontsize)
    if "wave" in axes:
        first.set_xlim(0, max(len(samples) / sr, 1e-3))
    else:
        first.set_xlim(voiced.start / sr, max(voiced.stop, voiced.start + 1) / sr)
    return axes


def plot_probabilities(
    ax: Axes,
    probabilities: Mapping[int, float],
    *,
    labels: Mapping[int, str] | None = None,
):
    """Bar chart of one recording's class probabilities; the most probable class highlighted."""
    classes = sorted(int(c) for c in probabilities)
    values = [float(probabilities[c]) for c in classes]
    best = classes[int(np.argmax(values))] if values else None
    colors = ["#d62728" if c == best else "#7f7f7f" for c in classes]
    bars = ax.bar(range(len(classes)), values, color=colors)
    names = [f"{c}\n{labels[c]}" if labels and c in labels else str(c) for c in classes]
    ax.set_xticks(range(len(classes)), names, fontsize="small")
    ax.set_ylim(0, 1)
    ax.set_ylabel("probability")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize="small")
    return bars


def plot_vote_matrix(ax: Axes, result):
    """Tasks x classes: each task's class probabilities, its vote framed; rejected and
    missing tasks greyed. Column labels carry the vote counts; the final class is bold."""
    rows = {t.task: t for t in result.tasks}
    classes = list(CLASS_NUMBERS)
    for t in result.tasks:
        if t.probabilities:
            classes = sorted(int(c) for c in t.probabilities)
            break
    M = np.full((len(TASK_IDS), len(classes)), np.nan)
    for i, task_id in enumerate(TASK_IDS):
        t = rows.get(task_id)
        if t is not None and t.ok:
            M[i] = [t.probabilities[c] for c in classes]
    cmap = _cmap("Blues")
    image = ax.imshow(M, cmap=cmap, vmin=0, vmax=1, aspect="auto")
    for i, task_id in enumerate(TASK_IDS):
        t = rows.get(task_id)
        if t is None or not t.ok:
            ax.text(
                (len(classes) - 1) / 2,
                i,
                "missing" if t is None else "rejected",
                ha="center",
                va="center",
                fontsize="small",
                color="#555555",
                style="italic",
            )
            continue
        for j, c in enumerate(classes):
            p = M[i, j]
            voted = c == t.predicted_class
            ax.text(
                j,
                i,
                f"{p:.2f}",
                ha="center",
                va="center",
                fontsize="small",
                color="white" if p > 0.6 else "black",
                weight="bold" if voted else "normal",
            )
            if voted:
                ax.add_patch(
                    Rectangle(
                        (j - 0.45, i - 0.42),
                        0.9,
                        0.84,
                        fill=False,
                        edgecolor="#d62728",
                        linewidth=1.6,
                    )
                )
    v = result.verdict
    final = v.final_class if v is not None and result.quality_ok else None
    for j, c in enumerate(classes):  # column headers as texts: tick labels cannot keep their own style
        ax.text(
            j,
            -0.6,
            f"class {c}\n{v.votes.get(c, 0) if v else 0} vote(s)",
            ha="center",
            va="bottom",
            fontsize="small",
            weight="bold" if c == final else "normal",
            color="#d62728" if c == final else "black",
        )
    ax.set_xticks([])
    ax.set_yticks(range(len(TASK_IDS)), list(TASK_IDS), fontsize="small")
    ax.tick_params(length=0)
    return image


def _cmap(name: str):
    from matplotlib import colormaps

    return colormaps[name].with_extremes(bad="#eeeeee")
