"""What the model sees for the selected task: waveform (VAD-kept region shaded), mel
spectrogram in dB, delta and delta-delta, with matplotlib's zoom/pan toolbar.

``display_data`` is Qt-free and runs in a worker (it imports torch, through
``sand_gui.features``); it uses the same ``FeatureSpec`` and preparation as the analysis,
so the panels are exactly the model's input. ``FeatureView`` owns the canvas and calls
``sand_gui.plots``; matplotlib itself is imported only when the canvas is first needed,
after the window has appeared.

Readable on a 1366x768 laptop: every panel keeps at least ``PANEL_MIN_PX`` of height. All
four are shown together when they fit; otherwise two at a time, picked with the tabs above
the plot ("Waveform + spectrogram" or "Δ and Δ²"), and the canvas scrolls rather than
squeezing the panels when even two do not fit. A tab the user clicks stays chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedLayout,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

from ..tasks import get_task

if TYPE_CHECKING:  # numpy and the core are imported when first used, after the window shows
    import numpy as np

    from ..features import FeatureSpec
    from ..vad import VoicedRange

# view key -> (tab text, the panels it shows); "all" is chosen on its own when there is room
VIEWS = {
    "overview": ("Waveform + spectrogram", ("wave", "mel")),
    "deltas": ("Δ and Δ² (model input)", ("delta", "delta2")),
    "all": ("All four", ("wave", "mel", "delta", "delta2")),
}
PANEL_MIN_PX = 130  # the least height of one panel, its title and tick labels included
FONT_PT = 8.5  # tick labels and axis labels; titles one point larger


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
    return DisplayData(
        task_id,
        Path(path),
        rec.samples,
        voiced,
        panels["mel"],
        panels["delta"],
        panels["delta2"],
        spec,
        rec.warnings,
    )


def fitting_view(height: int) -> str:
    """The view for a plot area ``height`` logical pixels tall: all four panels when each
    gets ``PANEL_MIN_PX``, else the waveform and the spectrogram."""
    return "all" if height >= len(VIEWS["all"][1]) * PANEL_MIN_PX else "overview"


class FeatureView(QWidget):
    """The panels, a row of view tabs and a navigation toolbar; messages while nothing can be drawn."""

    viewChanged = Signal(str)  # the key of the view now drawn (see VIEWS)

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
        self.tabs: QTabBar | None = None
        self.scroll: QScrollArea | None = None
        self.data: DisplayData | None = None
        self.view = "overview"
        self.user_chose_view = False  # a clicked tab stays; until then the view follows the room
        self.setMinimumHeight(PANEL_MIN_PX + 40)  # one panel and the tabs; the canvas scrolls below that

    def ensure_canvas(self) -> None:
        if self.canvas is not None:
            return
        from matplotlib.backends.backend_qtagg import (
            FigureCanvasQTAgg,
            NavigationToolbar2QT,
        )
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(7, 6), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.toolbar = NavigationToolbar2QT(self.canvas, self)
        self.toolbar.setIconSize(QSize(18, 18))
        self.tabs = QTabBar()
        self.tabs.setDocumentMode(True)
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for key, (text, panels) in VIEWS.items():
            i = self.tabs.addTab(text)
            self.tabs.setTabData(i, key)
            self.tabs.setTabToolTip(i, "Shows: " + ", ".join(panels))
        self.tabs.setCurrentIndex(list(VIEWS).index(self.view))
        self.tabs.tabBarClicked.connect(self._tab_clicked)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.canvas)
        page = QWidget()
        lay = QVBoxLayout(page)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.tabs)
        head.addStretch(1)
        head.addWidget(self.toolbar)
        lay.addLayout(head)
        lay.addWidget(self.scroll, 1)
        self._stack.addWidget(page)

    def show_message(self, text: str) -> None:
        self.data = None
        self.message.setText(text)
        self._stack.setCurrentIndex(0)

    def set_view(self, key: str) -> None:
        """Show the panels of ``VIEWS[key]``, as if the user had clicked its tab."""
        if key not in VIEWS:
            raise ValueError(f"view {key!r} is not one of {', '.join(VIEWS)}")
        self.user_chose_view = True
        self._switch(key)

    def panels(self) -> tuple[str, ...]:
        """The panels drawn now (or next), top to bottom."""
        return VIEWS[self.view][1]

    def _tab_clicked(self, index: int) -> None:
        if index >= 0:
            self.set_view(self.tabs.tabData(index))

    def _switch(self, key: str) -> None:
        changed = key != self.view
        self.view = key
        if self.tabs is not None:
            self.tabs.setCurrentIndex(list(VIEWS).index(key))
        if self.data is not None and (changed or self._stack.currentIndex() != 1):
            self._draw()
        if changed:
            self.viewChanged.emit(key)

    def _room(self) -> int:
        """Height the panels have: the scroll area's viewport once laid out, else an estimate."""
        if self.scroll is not None and self.scroll.isVisible():
            return self.scroll.viewport().height()
        return self.height() - 40

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self.user_chose_view and self.data is not None:
            self._switch(fitting_view(self._room()))

    def show_data(self, data: DisplayData) -> None:
        self.ensure_canvas()
        self.data = data
        if not self.user_chose_view:
            self.view = fitting_view(self._room())
            self.tabs.setCurrentIndex(list(VIEWS).index(self.view))
        self._draw()

    def _draw(self) -> None:
        from .. import plots

        data = self.data
        panels = self.panels()
        self.canvas.setMinimumHeight(len(panels) * PANEL_MIN_PX)
        self.figure.clear()
        task = get_task(data.task_id)
        view = {"mel": data.mel_db, "delta": data.delta, "delta2": data.delta2}
        plots.plot_model_view(
            self.figure,
            panels,
            samples=data.samples,
            voiced=data.voiced,
            view=view,
            spec=data.spec,
            family=data.family,
            title=f"{task.name} — {data.path.name}",
            fontsize=FONT_PT,
        )
        self.toolbar.update()  # the home button returns to this view
        self._stack.setCurrentIndex(1)
        self.canvas.draw_idle()
