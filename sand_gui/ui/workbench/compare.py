"""The "Compare" view: two or more recordings side by side on the same axes.

Every recording is loaded at the model's sample rate (so all share one band) and drawn with
``explore.draw_comparison``: the same time axis (0 to the longest), the same mel frequency
axis and the same colour scale (``db_range`` below the loudest of them). The exploration
controls apply to all at once. Typical use: one task, patients of different classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...errors import SandError, one_line
from ...tasks import get_task
from .. import workers
from ..messages import user_text
from .explore_controls import ExploreControls
from .figure_export import FigurePane

MAX_RECORDINGS = 9  # three rows of three stay readable
SIDE_MAX_PX = 300  # the list and controls beside the figure
SYNC_SECONDS = 60.0  # audio (all recordings together) recomputed on the GUI thread; more goes to a worker


@dataclass
class Entry:
    key: tuple  # (path, task_id): a recording is compared once
    title: str
    samples: object  # np.ndarray [shape=(n,)] at sample_rate
    sample_rate: int


def explore_all(inputs: list[tuple], params) -> list:
    """``explore.explore`` of each (samples, sample_rate) with the same settings."""
    from ...explore import explore

    return [explore(x, sample_rate=sr, params=params) for x, sr in inputs]


def load_entry(path: Path, sample_rate: int):
    from ...explore import load_samples

    return load_samples(path, sample_rate=sample_rate)


class CompareView(QWidget):
    """``add_recording(path, *, task_id, patient_id, label, spec, classifier=None)`` adds one;
    ``show_recording`` (same keywords) only remembers it for "Add the shown recording"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.entries: list[Entry] = []
        self.shown: dict | None = None
        self.drawn: list[tuple] = []  # (title, explore.Exploration) as drawn now
        self._generation = 0  # the newest redraw; older worker results are dropped
        self._pending: list[tuple] = []  # keys being loaded
        self._order: list[tuple] = []  # every key, in the order it was added
        self._defaulted = False  # the controls took the first recording's model settings
        self.list = QListWidget()
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.add_button = QPushButton("Add shown")
        self.add_button.setToolTip("Add the recording shown in the Recording tab")
        self.add_button.setEnabled(False)
        self.add_button.clicked.connect(lambda: self.shown and self.add_recording(**self.shown))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self.remove_selected)
        self.clear_button = QPushButton("Clear")
        self.clear_button.clicked.connect(self.clear)
        self.note = QLabel("Add recordings from the grid (right-click: Add to comparison).")
        self.note.setWordWrap(True)
        self.controls = ExploreControls()
        self.controls.changed.connect(lambda _p: self.redraw())
        side = QWidget()
        side.setMaximumWidth(SIDE_MAX_PX)
        col = QVBoxLayout(side)
        col.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button, self.clear_button):
            buttons.addWidget(b)
        col.addLayout(buttons)
        col.addWidget(self.note)
        col.addWidget(self.controls)
        self.pane = FigurePane("Nothing to compare yet: add two or more recordings.")
        self.pane.suggestion = Path.home() / "comparison.png"
        self.pane.export_size = (10.0, 4.0)
        lay = QHBoxLayout(self)
        lay.addWidget(self.pane, 1)
        lay.addWidget(side)

    def show_recording(self, path: Path, *, task_id: str, patient_id: str, label, spec, classifier=None) -> None:
        self.shown = {"path": Path(path), "task_id": task_id, "patient_id": patient_id, "label": label, "spec": spec}
        self.add_button.setEnabled(True)

    def add_recording(self, path: Path, *, task_id: str, patient_id: str, label, spec, classifier=None) -> None:
        """Load ``path`` in a worker and add it; the figure is redrawn when it arrives."""
        from ...explore import ExploreParams

        key = (str(path), task_id)
        if key in self._pending or any(e.key == key for e in self.entries):
            self.note.setText(f"{one_line(patient_id)} {task_id} is already compared.")
            return
        if len(self.entries) + len(self._pending) >= MAX_RECORDINGS:
            self.note.setText(f"At most {MAX_RECORDINGS} recordings are compared at once; remove one first.")
            return
        if not self._defaulted:
            params = ExploreParams.from_spec(spec, get_task(task_id).family)
            self.controls.set_default(params)
            self.controls.set_params(params)
            self.controls.set_sample_rate(spec.sample_rate)
            self._defaulted = True
        klass = "unlabelled" if label is None else f"class {label}"
        title = f"{one_line(patient_id, limit=30)} · {task_id}\n{klass}"
        self._pending.append(key)
        self._order = [k for k in self._order if k != key] + [key]
        self.note.setText(f"loading {one_line(Path(path).name)}…")
        workers.start(
            load_entry,
            Path(path),
            int(spec.sample_rate),
            returned=lambda r, k=key, t=title: self._loaded(k, t, r),
            errored=lambda e, k=key: self._failed(k, e),
        )

    def _loaded(self, key: tuple, title: str, result) -> None:
        if key not in self._pending:
            return  # cleared meanwhile
        self._pending.remove(key)
        samples, rate = result
        self.entries.append(Entry(key, title, samples, rate))
        self.entries.sort(key=lambda e: self._order.index(e.key))  # the order they were added, not loaded
        self.list.clear()
        for e in self.entries:
            item = QListWidgetItem(e.title.replace("\n", " · "))
            item.setData(Qt.ItemDataRole.UserRole, e.key)
            self.list.addItem(item)
        self.note.setText("")
        self.redraw()

    def _failed(self, key: tuple, exc) -> None:
        if key in self._pending:
            self._pending.remove(key)
        self.note.setText(user_text(exc))

    def remove_selected(self) -> None:
        keys = {i.data(Qt.ItemDataRole.UserRole) for i in self.list.selectedItems()}
        self.remove(keys)

    def remove(self, keys) -> None:
        keys = set(keys)
        self.entries = [e for e in self.entries if e.key not in keys]
        for i in reversed(range(self.list.count())):
            if self.list.item(i).data(Qt.ItemDataRole.UserRole) in keys:
                self.list.takeItem(i)
        self.redraw()

    def clear(self) -> None:
        self._pending.clear()
        self.remove([e.key for e in self.entries])

    def redraw(self) -> None:
        """Recompute every exploration with the controls' settings and draw them side by side
        (in a worker when together they are longer than ``SYNC_SECONDS``; the newest wins)."""
        self._generation += 1
        if not self.entries:
            self.drawn = []
            self.pane.show_message("Nothing to compare yet: add two or more recordings.")
            return
        params = self.controls.params()
        titles = [e.title for e in self.entries]
        inputs = [(e.samples, e.sample_rate) for e in self.entries]
        if sum(len(x) / sr for x, sr in inputs) <= SYNC_SECONDS:
            try:
                self._show(titles, explore_all(inputs, params))
            except SandError as exc:
                self.controls.show_problem(str(exc))
            return
        gen = self._generation
        self.pane.show_message("computing the comparison…")
        workers.start(
            explore_all,
            inputs,
            params,
            returned=lambda r, g=gen, t=titles: g == self._generation and self._show(t, r),
            errored=lambda e, g=gen: g == self._generation and self.controls.show_problem(user_text(e)),
        )

    def _show(self, titles: list[str], explorations: list) -> None:
        self.controls.show_problem("")
        self.drawn = list(zip(titles, explorations))
        self.pane.draw(self.draw_figure)
        if len(self.drawn) == 1:
            self.note.setText("Add one more recording to compare.")

    def draw_figure(self, fig) -> list:
        from ...explore import draw_comparison

        return draw_comparison(fig, self.drawn)
