"""Exploring recordings: a spectrogram whose settings a researcher changes at will, recordings
compared on shared axes, a per-class mean spectrogram of a task, and figures saved for papers.

This is NOT the model's input. The model sees ``features.prepare_input`` with its bundle's
``FeatureSpec`` (drawn by ``plots.model_view``); nothing here feeds the model and nothing here
changes what it sees. Views label the two apart ("Model input (FeatureSpec …)" and
"Exploration — not the model's input").

The exploration spectrogram is numpy only, so a slider can recompute it in milliseconds:
Hann window of ``n_fft`` samples, centred frames with reflect padding, power, HTK mel
triangles (unnormalised) between ``f_min`` and ``f_max``, ``10*log10(max(S, 1e-10))``,
floored ``db_range`` below the recording's maximum. With a FeatureSpec's settings it equals
``features.mel_db`` (tested), but it covers the whole recording, not only the kept audio.
The kept region comes from the same energy VAD (``vad.detect_voice``) at ``vad_top_db``.

Per-class mean (``class_mean``): TIME-NORMALISED, not cropped. Each recording's kept audio is
turned into a mel dB spectrogram referenced to its own maximum (0 dB, so a louder microphone
does not dominate) and floored at ``-db_range``, stretched or squeezed linearly to ``n_frames``
columns (x = fraction of the kept audio, 0..1), and the class mean is the mean of those in dB.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from .classes import CLASS_NUMBERS
from .errors import SandError, UsageError, one_line, storage_error
from .plots import KEPT_COLOR, add_colorbar, hz_to_mel, mel_ticks, mel_to_hz, plot_waveform
from .vad import VoicedRange, detect_voice

LIMITS = {  # field -> (least, most): what the controls offer and ``validate`` accepts
    "n_mels": (8, 512),
    "n_fft": (64, 16384),
    "hop_length": (16, 16384),
    "db_range": (10.0, 150.0),
    "vad_top_db": (5.0, 90.0),
    "vad_frame_s": (0.001, 1.0),
    "vad_hop_s": (0.0005, 1.0),
}
LABELS = {
    "n_mels": "mel bins",
    "n_fft": "FFT size",
    "hop_length": "hop",
    "db_range": "dB range",
    "vad_top_db": "VAD threshold (dB)",
    "f_min": "lowest frequency",
    "f_max": "highest frequency",
    "vad_frame_s": "VAD frame (s)",
    "vad_hop_s": "VAD hop (s)",
}
CMAPS = ("magma", "viridis", "inferno", "cividis", "gray_r", "Greys")  # offered first; any matplotlib name works
MAX_FRAMES = 40_000  # columns one spectrogram may have (a 60 s take at hop 32 / 22.05 kHz)
FIGURE_LIMITS = {"inches": (1.0, 60.0), "dpi": (50, 1200), "megapixels": 200.0}
FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
AMIN = 1e-10
EXPLORATION_TITLE = "Exploration — not the model's input"


class Cancelled(SandError):
    """The user cancelled a long computation (``class_mean``); nothing was returned."""


@dataclass(frozen=True)
class ExploreParams:
    """The exploration view's settings. ``n_fft`` and ``hop_length`` are in samples of the
    recording's own rate; ``f_max=None`` means its Nyquist frequency. The VAD's frame and hop
    are in seconds (the model's, by ``from_spec``); only its threshold is a control."""

    n_mels: int = 128
    f_min: float = 0.0
    f_max: float | None = None
    n_fft: int = 1024
    hop_length: int = 256
    db_range: float = 80.0
    cmap: str = "magma"
    vad_top_db: float = 30.0
    vad_frame_s: float = 2048 / 22050
    vad_hop_s: float = 512 / 22050

    @classmethod
    def from_spec(cls, spec, family: str, **changes) -> ExploreParams:
        """The model's own settings (a ``FeatureSpec`` and task family) as a starting point."""
        f_min, f_max = spec.band(family)
        base = cls(
            n_mels=spec.n_mels,
            f_min=f_min,
            f_max=f_max,
            n_fft=spec.n_fft,
            hop_length=spec.hop_length,
            db_range=spec.top_db,
            vad_top_db=spec.vad_top_db,
            vad_frame_s=spec.vad_frame_length / spec.sample_rate,
            vad_hop_s=spec.vad_hop_length / spec.sample_rate,
        )
        return dataclasses.replace(base, **changes)

    def band(self, sample_rate: int) -> tuple[float, float]:
        """(f_min, f_max) in Hz at ``sample_rate``: f_max clipped to the Nyquist frequency."""
        nyquist = sample_rate / 2
        return float(self.f_min), float(nyquist if self.f_max is None else min(self.f_max, nyquist))

    def problems(self, *, sample_rate: int | None = None) -> list[str]:
        """What is wrong, as clauses of one sentence (empty when nothing is)."""
        out = []
        for name, (lo, hi) in LIMITS.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not lo <= v <= hi:
                out.append(f"{LABELS[name]} {one_line(repr(v), limit=30)} is outside {lo:g}-{hi:g}")
            elif name in ("n_mels", "n_fft", "hop_length") and int(v) != v:
                out.append(f"{LABELS[name]} {v!r} is not a whole number")
        if not out and self.hop_length > self.n_fft:
            out.append(f"hop {self.hop_length} is longer than the FFT size {self.n_fft}")
        for name in ("f_min", "f_max"):
            v = getattr(self, name)
            if v is None and name == "f_max":
                continue
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
                out.append(f"{LABELS[name]} {one_line(repr(v), limit=30)} is not a number of 0 or more")
        if self.cmap not in CMAPS:
            from matplotlib import colormaps

            if self.cmap not in colormaps:
                out.append(f"colour map {one_line(repr(self.cmap), limit=40)} is unknown (try {', '.join(CMAPS)})")
        if out or sample_rate is None:
            return out
        f_min, f_max = self.band(sample_rate)
        if f_min >= f_max:
            return [f"the band {f_min:g}-{f_max:g} Hz is empty at {sample_rate} Hz (Nyquist {sample_rate / 2:g} Hz)"]
        fb = mel_filterbank(
            sample_rate=int(sample_rate), n_fft=int(self.n_fft), n_mels=int(self.n_mels), f_min=f_min, f_max=f_max
        )
        empty = int((fb.max(axis=0) <= 0).sum())
        if empty:
            out.append(
                f"{empty} of {self.n_mels} mel bins hold no FFT bin between {f_min:g} and {f_max:g} Hz "
                f"with an FFT of {self.n_fft}; use fewer mel bins, a wider band or a larger FFT"
            )
        return out

    def validate(self, *, sample_rate: int | None = None) -> None:
        """UsageError, one sentence listing every problem, when the settings cannot be drawn."""
        problems = self.problems(sample_rate=sample_rate)
        if problems:
            raise UsageError("exploration settings: " + "; ".join(problems) + ".")


@dataclass(frozen=True)
class Exploration:
    """One recording's exploration spectrogram and kept region."""

    db: np.ndarray  # [shape=(n_mels, t)] mel power in dB, floored db_range below its maximum
    sample_rate: int
    n_samples: int
    params: ExploreParams
    voiced: VoicedRange  # kept by the VAD at params.vad_top_db, in samples

    @property
    def seconds(self) -> float:
        return self.n_samples / self.sample_rate

    @property
    def band(self) -> tuple[float, float]:
        return self.params.band(self.sample_rate)

    @property
    def clim(self) -> tuple[float, float]:
        top = float(self.db.max()) if self.db.size else 0.0
        return top - self.params.db_range, top


@lru_cache(maxsize=32)
def mel_filterbank(*, sample_rate: int, n_fft: int, n_mels: int, f_min: float, f_max: float) -> np.ndarray:
    """HTK mel triangles, unnormalised, as torchaudio builds them: [shape=(n_fft // 2 + 1, n_mels)].
    Cached (a slider often returns to the same settings); the array is read-only."""
    freqs = np.linspace(0, sample_rate // 2, n_fft // 2 + 1)
    f_pts = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    f_diff = np.diff(f_pts)
    slopes = f_pts[None, :] - freqs[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):  # a band too narrow for floats: empty bins, said by problems()
        down = -slopes[:, :-2] / f_diff[:-1]
        up = slopes[:, 2:] / f_diff[1:]
        fb = np.nan_to_num(np.maximum(0.0, np.minimum(down, up)), nan=0.0, posinf=0.0, neginf=0.0)
    fb.flags.writeable = False
    return fb


def mel_db(samples: np.ndarray, *, sample_rate: int, params: ExploreParams) -> np.ndarray:
    """Mel power in dB of ``samples`` [shape=(n,)]: [shape=(n_mels, 1 + n // hop_length)].

    Frames are computed in chunks, so memory stays small whatever the hop."""
    x = np.asarray(samples, dtype=np.float64)
    n_fft, hop = int(params.n_fft), int(params.hop_length)
    n_frames = 1 + len(x) // hop
    if n_frames > MAX_FRAMES:
        raise UsageError(
            f"exploration settings: a hop of {hop} samples gives {n_frames} frames for these "
            f"{len(x) / sample_rate:.1f} s; at most {MAX_FRAMES} can be drawn, so use a larger hop."
        )
    f_min, f_max = params.band(sample_rate)
    fb = mel_filterbank(sample_rate=int(sample_rate), n_fft=n_fft, n_mels=int(params.n_mels), f_min=f_min, f_max=f_max)
    xp = np.pad(x, n_fft // 2, mode="reflect" if len(x) > 1 else "constant")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann, as torch's
    frames = np.lib.stride_tricks.sliding_window_view(xp, n_fft)[::hop][:n_frames]
    rows = np.flatnonzero(fb.any(axis=1))  # only the FFT bins inside the band matter
    lo, hi = (int(rows[0]), int(rows[-1]) + 1) if rows.size else (0, 1)
    out = np.empty((fb.shape[1], n_frames))
    step = max(1, 2_000_000 // n_fft)
    for s in range(0, n_frames, step):
        spec = np.abs(np.fft.rfft(frames[s : s + step] * window, axis=1)[:, lo:hi]) ** 2
        out[:, s : s + step] = (spec @ fb[lo:hi]).T
    db = 10.0 * np.log10(np.maximum(out, AMIN))
    return np.maximum(db, db.max() - float(params.db_range)).astype(np.float32)


def kept_region(samples: np.ndarray, *, sample_rate: int, params: ExploreParams) -> VoicedRange:
    """The energy VAD's kept range at ``params.vad_top_db`` (frame and hop from params, in seconds)."""
    frame = max(2, round(params.vad_frame_s * sample_rate))
    hop = max(1, round(params.vad_hop_s * sample_rate))
    return detect_voice(np.asarray(samples), top_db=float(params.vad_top_db), frame_length=frame, hop_length=hop)


def explore(samples: np.ndarray, *, sample_rate: int, params: ExploreParams) -> Exploration:
    """The exploration spectrogram and kept region of a whole recording [shape=(n,)]."""
    params.validate(sample_rate=sample_rate)
    x = np.asarray(samples, dtype=np.float32)
    db = mel_db(x, sample_rate=sample_rate, params=params)
    return Exploration(db, int(sample_rate), len(x), params, kept_region(x, sample_rate=sample_rate, params=params))


def load_samples(path: Path, *, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Mono float32 samples of ``path`` and their rate: the file's own rate unless one is asked
    for (AudioError, one sentence, for a file that cannot be used)."""
    from .audio import check_signal, load_recording, read_audio

    path = Path(path)
    if sample_rate is not None:
        rec = load_recording(path, sample_rate=int(sample_rate))
        return rec.samples, rec.sample_rate
    mono, rate, _, _ = read_audio(path)
    x, _ = check_signal(mono, name=one_line(path.name, limit=120))
    return np.asarray(x, dtype=np.float32), int(rate)


def _mel_edges(f_min: float, f_max: float, n_mels: int) -> np.ndarray:
    """Row edges in Hz [shape=(n_mels + 1,)]: each HTK bin reaches half-way (in mel) to its
    neighbours, the outer ones to the band's edges (as ``plots.plot_spectrogram`` draws them)."""
    points = np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2)
    y = mel_to_hz((points[:-1] + points[1:]) / 2)
    y[0], y[-1] = f_min, f_max
    return y


def _mel_axis(ax, f_min: float, f_max: float) -> None:
    ax.set_yscale("function", functions=(hz_to_mel, mel_to_hz))
    ax.set_ylim(f_min, f_max)
    ticks = mel_ticks(f_min, f_max)
    ax.set_yticks(ticks, [f"{f:.0f}" for f in ticks])
    ax.minorticks_off()


def plot_exploration(ax, ex: Exploration, *, clim: tuple[float, float] | None = None, kept: bool = True):
    """Draw ``ex`` into ``ax``: seconds against Hz on a mel scale, the kept region's edges as
    dashed lines; ``clim`` (dB) shares a colour scale between panels. Returns the mesh."""
    n_mels, t = ex.db.shape
    f_min, f_max = ex.band
    frame = ex.params.hop_length / ex.sample_rate
    y = _mel_edges(f_min, f_max, n_mels)
    x = np.clip((np.arange(t + 1) - 0.5) * frame, 0, None)
    vmin, vmax = clim or ex.clim
    mesh = ax.pcolormesh(x, y, ex.db, shading="flat", rasterized=True, cmap=ex.params.cmap, vmin=vmin, vmax=vmax)
    _mel_axis(ax, f_min, f_max)
    ax.set_xlim(0, max(ex.seconds, 1e-3))
    if kept and ex.voiced.length:
        for edge in (ex.voiced.start, ex.voiced.stop):
            ax.axvline(edge / ex.sample_rate, color=KEPT_COLOR, linestyle="--", linewidth=1.2)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    return mesh


def describe(params: ExploreParams, sample_rate: int) -> str:
    f_min, f_max = params.band(sample_rate)
    return (
        f"{params.n_mels} mels · {f_min:g}-{f_max:g} Hz · FFT {params.n_fft} · hop {params.hop_length} · "
        f"{params.db_range:g} dB range"
    )


def draw_exploration(fig, samples: np.ndarray, ex: Exploration, *, title: str = "", fontsize: float = 8) -> dict:
    """The exploration view in ``fig`` (layout="constrained"): the waveform with the kept region
    shaded over the spectrogram, one time axis, a dB colour bar; ``title`` (a file name, say) goes
    above as the figure's title. Returns ``{"wave", "mel"}`` Axes."""
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 0.015], height_ratios=[1, 1.6])
    wave = fig.add_subplot(grid[0, 0])
    fig.add_subplot(grid[0, 1]).axis("off")
    plot_waveform(wave, samples, sample_rate=ex.sample_rate, voiced=ex.voiced, legend=False)
    wave.set_title(EXPLORATION_TITLE, fontsize=fontsize + 1, loc="left")
    wave.set_title(f"green: kept at {ex.params.vad_top_db:g} dB", fontsize=fontsize, loc="right", color=KEPT_COLOR)
    if title:
        fig.suptitle(title, fontsize=fontsize + 1)
    mel = fig.add_subplot(grid[1, 0], sharex=wave)
    mesh = plot_exploration(mel, ex)
    mel.set_title(describe(ex.params, ex.sample_rate), fontsize=fontsize + 1, loc="left")
    add_colorbar(mesh, cax=fig.add_subplot(grid[1, 1]), kind="mel", fontsize=fontsize)
    for ax in (wave, mel):
        ax.tick_params(labelsize=fontsize)
        ax.xaxis.label.set_size(fontsize)
        ax.yaxis.label.set_size(fontsize)
    wave.tick_params(labelbottom=False)
    wave.set_xlabel("")
    return {"wave": wave, "mel": mel}


def draw_comparison(fig, items: Sequence[tuple[str, Exploration]], *, fontsize: float = 8) -> list:
    """Recordings side by side (up to 3 a row) on the SAME time and frequency axes and colour scale.

    Time runs from each recording's start to the longest one's end; the band is the one all
    share; the colour scale spans ``db_range`` below the loudest of them. Returns the Axes."""
    if not items:
        raise UsageError("comparison: add at least one recording to compare.")
    f_min = max(ex.band[0] for _, ex in items)
    f_max = min(ex.band[1] for _, ex in items)
    seconds = max(ex.seconds for _, ex in items)
    top = max(ex.clim[1] for _, ex in items)
    clim = (top - max(ex.params.db_range for _, ex in items), top)
    ncols = min(3, len(items))
    nrows = math.ceil(len(items) / ncols)
    grid = fig.add_gridspec(nrows, ncols + 1, width_ratios=[1] * ncols + [0.03])
    axes, mesh = [], None
    for i, (title, ex) in enumerate(items):
        ax = fig.add_subplot(grid[i // ncols, i % ncols], sharex=axes[0] if axes else None)
        mesh = plot_exploration(ax, ex, clim=clim)
        ax.set_title(title, fontsize=fontsize, loc="left")
        ax.tick_params(labelsize=fontsize)
        ax.xaxis.label.set_size(fontsize)
        ax.yaxis.label.set_size(fontsize)
        axes.append(ax)
    for ax in axes:
        _mel_axis(ax, f_min, f_max)
        ax.set_xlim(0, seconds)
    add_colorbar(mesh, cax=fig.add_subplot(grid[:, ncols]), kind="mel", fontsize=fontsize)
    fig.suptitle(f"{EXPLORATION_TITLE}\n{describe(items[0][1].params, items[0][1].sample_rate)}", fontsize=fontsize + 1)
    return axes


@dataclass
class ClassMean:
    """Per-class mean exploration spectrograms of one task (time-normalised, see the module)."""

    task_id: str
    params: ExploreParams
    sample_rate: int
    means: dict[int, np.ndarray]  # class -> [shape=(n_mels, n_frames)] dB re each recording's max
    counts: dict[int, int]  # class -> recordings averaged
    skipped: list[str] = field(default_factory=list)  # one sentence per recording left out


def _stretch(db: np.ndarray, n_frames: int) -> np.ndarray:
    """[shape=(m, t)] -> [shape=(m, n_frames)], linear interpolation over the fraction of time."""
    t = db.shape[1]
    if t == 1:
        return np.repeat(db, n_frames, axis=1)
    pos = np.linspace(0, t - 1, n_frames)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, t - 1)
    w = pos - lo
    return db[:, lo] * (1 - w) + db[:, hi] * w


def class_mean(
    rows: Iterable,
    task_id: str,
    *,
    sample_rate: int,
    params: ExploreParams,
    n_frames: int = 200,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> ClassMean:
    """Mean exploration spectrogram of ``task_id`` for each class over a dataset's ``rows``
    (``dataset_index.Row``: ``label``, ``patient_id``, ``cells[task].path`` / ``.status``).

    Recordings are loaded at ``sample_rate`` (the model's, so all share one band), trimmed to
    their kept region, referenced to their own maximum and time-normalised to ``n_frames``
    columns. Unlabelled rows and missing cells are passed over; a recording that cannot be used
    is skipped with its sentence in ``skipped``. ``progress(done, total, text)`` after each;
    ``cancel()`` is asked before each and True raises ``Cancelled``.
    """
    params.validate(sample_rate=sample_rate)
    todo = []
    for row in rows:
        cell = getattr(row, "cells", {}).get(task_id)
        label = getattr(row, "label", None)
        if label in CLASS_NUMBERS and cell is not None and cell.path is not None and cell.status == "present":
            todo.append((row.patient_id, int(label), Path(cell.path)))
    sums = {c: np.zeros((int(params.n_mels), n_frames)) for c in CLASS_NUMBERS}
    counts = dict.fromkeys(CLASS_NUMBERS, 0)
    skipped = []
    for i, (patient, label, path) in enumerate(todo):
        if cancel is not None and cancel():
            raise Cancelled(f"class mean of {one_line(task_id)}: cancelled after {i} of {len(todo)} recordings.")
        try:
            x, sr = load_samples(path, sample_rate=sample_rate)
            kept = kept_region(x, sample_rate=sr, params=params)
            if kept.length < params.hop_length:
                raise UsageError(f"{one_line(path.name)}: no audio is kept at {params.vad_top_db:g} dB.")
            db = mel_db(x[kept.start : kept.stop], sample_rate=sr, params=params)
            sums[label] += _stretch(db - db.max(), n_frames)
            counts[label] += 1
        except SandError as exc:
            skipped.append(f"{one_line(patient)} {one_line(task_id)}: {one_line(str(exc))}")
        if progress is not None:
            progress(i + 1, len(todo), f"{patient} {task_id}")
    means = {c: (sums[c] / counts[c]).astype(np.float32) for c in CLASS_NUMBERS if counts[c]}
    return ClassMean(task_id, params, int(sample_rate), means, counts, skipped)


def draw_class_means(fig, cm: ClassMean, *, labels: dict[int, str] | None = None, fontsize: float = 8) -> dict:
    """Classes 1..5 in a row, one shared colour scale (0 dB down to ``-db_range``); a class
    without recordings says so. Returns ``{class: Axes}``."""
    grid = fig.add_gridspec(1, len(CLASS_NUMBERS) + 1, width_ratios=[1] * len(CLASS_NUMBERS) + [0.05])
    f_min, f_max = cm.params.band(cm.sample_rate)
    axes, mesh, first = {}, None, None
    for i, c in enumerate(CLASS_NUMBERS):
        ax = fig.add_subplot(grid[0, i], sharey=first)
        first = first or ax
        name = f"class {c}" + (f" · {labels[c]}" if labels and c in labels else "")
        ax.set_title(f"{name}\n{cm.counts.get(c, 0)} recording(s)", fontsize=fontsize)
        if c in cm.means:
            m = cm.means[c]
            x = np.linspace(0, 1, m.shape[1] + 1)
            mesh = ax.pcolormesh(
                x, _mel_edges(f_min, f_max, m.shape[0]), m, shading="flat", rasterized=True, cmap=cm.params.cmap
            )
            mesh.set_clim(-cm.params.db_range, 0)
        else:
            ax.text(0.5, 0.5, "no recordings", ha="center", va="center", transform=ax.transAxes, fontsize=fontsize)
        _mel_axis(ax, f_min, f_max)
        ax.set_xlim(0, 1)
        ax.set_xlabel("fraction of kept audio", fontsize=fontsize)
        ax.tick_params(labelsize=fontsize, labelleft=i == 0)
        axes[c] = ax
    axes[CLASS_NUMBERS[0]].set_ylabel("frequency (Hz)", fontsize=fontsize)
    cax = fig.add_subplot(grid[0, -1])
    if mesh is not None:
        add_colorbar(mesh, cax=cax, kind="mel", fontsize=fontsize).set_label("dB re each recording's max")
    else:
        cax.axis("off")
    fig.suptitle(f"{cm.task_id}: mean per class · {EXPLORATION_TITLE}", fontsize=fontsize + 1)
    return axes


def save_figure(fig, path: Path | str, *, width_in: float, height_in: float, dpi: float) -> Path:
    """Save ``fig`` as PNG, SVG or PDF (chosen by the extension) at ``width_in`` x ``height_in``
    inches and ``dpi``, written to a temporary name in the same folder and renamed. The figure's
    size is restored afterwards, so an on-screen figure is not left resized."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    lo, hi = FIGURE_LIMITS["inches"]
    dlo, dhi = FIGURE_LIMITS["dpi"]
    problem = None
    if fmt is None:
        problem = f"the extension {one_line(path.suffix or 'none', limit=20)} is not one of .png, .svg, .pdf"
    elif not all(isinstance(v, int | float) and math.isfinite(v) and lo <= v <= hi for v in (width_in, height_in)):
        problem = f"the size {width_in!r} x {height_in!r} in is outside {lo:g}-{hi:g} in"
    elif not (isinstance(dpi, int | float) and math.isfinite(dpi) and dlo <= dpi <= dhi):
        problem = f"{dpi!r} dpi is outside {dlo}-{dhi}"
    elif width_in * height_in * dpi * dpi > FIGURE_LIMITS["megapixels"] * 1e6:
        problem = f"{width_in * dpi:.0f} x {height_in * dpi:.0f} pixels is more than {FIGURE_LIMITS['megapixels']:g} megapixels"
    if problem:
        raise UsageError(f"{one_line(path.name, limit=80)}: cannot save the figure: {problem}.")
    old_size, old_dpi = fig.get_size_inches().copy(), fig.dpi
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem[:40]}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as f:
            fig.set_size_inches(width_in, height_in, forward=False)
            fig.savefig(f, format=fmt, dpi=dpi)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise storage_error(exc, path) from None
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        fig.set_size_inches(*old_size, forward=False)
        fig.set_dpi(old_dpi)
    return path
