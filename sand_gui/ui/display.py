"""What the model sees for the selected task: waveform (VAD-kept region shaded), mel
spectrogram in dB, delta and delta-delta, with matplotlib's zoom/pan toolbar.

``display_data`` is Qt-free and runs in a worker (it imports torch, through
``sand_gui.features``); it uses the same ``FeatureSpec`` and ``prepare_input`` as the
analysis, so the panels are exactly the model's input. ``FeatureView`` owns the canvas and
calls ``sand_gui.plots``; matplotlib itself is imported only when the canvas is first
needed, after the window has appeared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QStackedLayout, QVBoxLayout, QWidget

from ..tasks import get_task

if TYPE_CHECKING:  # numpy and the core are imported when first used, after the window shows
    import numpy as np

    from ..features import FeatureSpec
    from ..vad import VoicedRange


@dataclass
class DisplayData:
    task_id: str
    path: Path
    samples: np.ndarray  # [shape=(n,)] at spec.sample_rate, as the model's loader returns it
    voiced: VoicedRange
    mel_db: np.ndarray  # [shape=(n_mels, t)] of the trimmed audio, dB
    delta: np.ndarray  # [shape=(n_mels, t)] channel 1 of the model input (standardised)
    delta2: np.ndarray  # [shape=(n_mels, t)] channel 2 of the model input (standardised)
    spec: FeatureSpec
    warnings: list[str]

    @property
    def family(self) -> str:
        return get_task(self.task_id).family


def display_data(path: Path, task_id: str, spec: FeatureSpec) -> DisplayData:
    """Load, trim and featurise one recording exactly as the analysis does (worker thread)."""
    from ..audio import load_recording
    from ..features import trim
    from ..plots import model_view

    rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    task = get_task(task_id)
    voiced = trim(rec.samples, spec=spec, name=Path(path).name)
    panels = model_view(rec.samples, spec=spec, family=task.family, voiced=voiced)
    return DisplayData(task_id, Path(path), rec.samples, voiced, panels["mel"], panels["delta"], panels["delta2"], spec, rec.warnings)


class FeatureView(QWidget):
    """Four panels and a navigation toolbar; shows messages while nothing can be drawn."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._stack = QStackedLayout(self)
        self.message = QLabel("Select a task with a recording to see what the model sees.")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self._stack.addWidget(self.message)
        self.canvas = None
        self.figure = None
        self.toolbar = None
        self.data: DisplayData | None = None

    def ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg, NavigationToolbar2QT
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(7, 6), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.toolbar = NavigationToolbar2QT(self.canvas, self)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.canvas, 1)
        self._stack.addWidget(page)

    def show_message(self, text: str) -> None:
        self.data = None
        self.message.setText(text)
        self._stack.setCurrentIndex(0)

    def show_data(self, data: DisplayData) -> None:
        from .. import plots

        self.ensure_canvas()
        self.data = data
        fig = self.figure
        fig.clear()
        axes = fig.subplots(4, 1, gridspec_kw={"height_ratios": [1, 1.5, 1, 1]})
        spec, family = data.spec, data.family
        task = get_task(data.task_id)
        plots.plot_waveform(axes[0], data.samples, sample_rate=spec.sample_rate, voiced=data.voiced)
        axes[0].set_title(f"{task.name} — {data.path.name}: waveform (shaded: kept by the voice detector)", fontsize=8, loc="left")
        panels = ((data.mel_db, "mel", "Mel spectrogram (dB) of the kept audio"),
                  (data.delta, "delta", "Δ (standardised, as the model sees it)"),
                  (data.delta2, "delta2", "Δ² (standardised, as the model sees it)"))
        for ax, (S, kind, title) in zip(axes[1:], panels):
            plots.plot_spectrogram(ax, S, spec=spec, family=family, kind=kind, title=title)
            ax.title.set_fontsize(8)
            ax.set_ylabel("Hz", fontsize=7)
        axes[2].sharex(axes[1])
        axes[3].sharex(axes[1])
        for ax in axes:
            ax.tick_params(labelsize=7)
            ax.xaxis.label.set_fontsize(7)
            ax.yaxis.label.set_fontsize(7)
        for ax in axes[1:3]:
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
        axes[3].set_xlabel("time in the kept audio (s)", fontsize=7)
        self._stack.setCurrentIndex(1)
        self.canvas.draw_idle()
