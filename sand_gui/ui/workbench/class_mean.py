"""The "Class mean" view: for one task, the mean exploration spectrogram of each class 1..5 in a
row with one colour scale, computed on demand in a worker with progress and Cancel.

Time-normalised, not cropped: each recording's kept audio is stretched to the same width
(x = fraction of the kept audio) and referenced to its own maximum before averaging (see
``explore.class_mean``). Results are cached per (task, settings) until the dataset changes.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...classes import CLASS_NUMBERS
from ...tasks import TASK_IDS, get_task
from .. import workers
from ..messages import user_text
from .figure_export import FigurePane


class ClassMeanView(QWidget):
    """``set_dataset(index, spec)`` gives it a ``DatasetIndex``; Compute draws the chosen task."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = None
        self.spec = None
        self.result = None  # explore.ClassMean drawn now
        self.cache: dict[tuple, object] = {}
        self.worker = None
        self.task = QComboBox()
        for t in TASK_IDS:
            self.task.addItem(f"{get_task(t).name} ({t})", t)
        self.task.currentIndexChanged.connect(self._task_changed)
        self.compute_button = QPushButton("Compute")
        self.compute_button.clicked.connect(self.compute)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.status = QLabel("Open a dataset to see each class's mean spectrogram of a task.")
        self.status.setWordWrap(True)
        self.pane = FigurePane("Choose a task and press Compute.")
        self.pane.suggestion = Path.home() / "class_mean.png"
        self.pane.export_size = (12.0, 3.2)
        head = QHBoxLayout()
        head.addWidget(QLabel("Task"))
        head.addWidget(self.task)
        head.addWidget(self.compute_button)
        head.addWidget(self.cancel_button)
        head.addWidget(self.progress, 1)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(self.status)
        lay.addWidget(self.pane, 1)
        self._update_buttons()

    def task_id(self) -> str:
        return self.task.currentData()

    def set_dataset(self, index, spec) -> None:
        """A new dataset (``DatasetIndex``) and the model's FeatureSpec; what was computed is dropped."""
        self.cancel()
        self.index, self.spec = index, spec
        self.cache.clear()
        self.result = None
        self.pane.show_message("Choose a task and press Compute.")
        n = sum(getattr(r, "label", None) in CLASS_NUMBERS for r in index.rows)
        self.status.setText(f"{n} labelled patient(s) in this dataset.")
        self._update_buttons()

    def show_recording(self, path: Path, *, task_id: str, patient_id: str, label, spec, classifier=None) -> None:
        """Follow the task picked in the grid (nothing is computed until Compute)."""
        i = self.task.findData(task_id)
        if i >= 0 and self.worker is None:
            self.task.setCurrentIndex(i)

    def _params(self):
        from ...explore import ExploreParams

        return ExploreParams.from_spec(self.spec, get_task(self.task_id()).family)

    def _task_changed(self, _i: int) -> None:
        if self.spec is None:
            return
        found = self.cache.get((self.task_id(), self._params()))
        if found is not None:
            self._show(found)
        elif self.worker is None:
            self.pane.show_message("Press Compute to average this task's recordings per class.")

    def compute(self) -> None:
        from ...explore import class_mean

        if self.index is None or self.spec is None or self.worker is not None:
            return
        key = (self.task_id(), self._params())
        if key in self.cache:
            self._show(self.cache[key])
            return
        self.progress.setRange(0, 0)
        self.status.setText(f"averaging {key[0]} per class…")
        self.worker = workers.start(
            class_mean,
            list(self.index.rows),
            key[0],
            sample_rate=int(self.spec.sample_rate),
            params=key[1],
            returned=lambda r, k=key: self._done(k, r),
            errored=self._failed,
            progress=self._progress,
            finished=self._finished,
        )
        self._update_buttons()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("cancelled.")

    def _progress(self, args) -> None:
        done, total, text = args
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done}/{total}")

    def _done(self, key: tuple, result) -> None:
        self.cache[key] = result
        if key[0] == self.task_id():
            self._show(result)

    def _failed(self, exc) -> None:
        self.status.setText(user_text(exc))

    def _finished(self) -> None:
        self.worker = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self._update_buttons()

    def _show(self, result) -> None:
        self.result = result
        used = sum(result.counts.values())
        text = f"{result.task_id}: {used} recording(s) averaged"
        if result.skipped:
            text += f"; {len(result.skipped)} skipped (first: {result.skipped[0]})"
        self.status.setText(text + ".")
        self.pane.suggestion = Path.home() / f"class_mean_{result.task_id}.png"
        self.pane.draw(self.draw_figure)

    def draw_figure(self, fig) -> dict:
        from ...classes import DEFAULT_LABELS
        from ...explore import draw_class_means

        return draw_class_means(fig, self.result, labels=DEFAULT_LABELS)

    def _update_buttons(self) -> None:
        busy = self.worker is not None
        self.compute_button.setEnabled(self.index is not None and not busy)
        self.cancel_button.setEnabled(busy)
