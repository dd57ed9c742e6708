"""The batch run: the model over the patients shown, in a worker, then predictions and scores.

``sand_gui.batch.run_batch`` does the work (feature cache, the application's own per-recording
probabilities and majority vote, the metrics of ``sand-train evaluate``); this panel only
decides that a pool thread runs it, shows its progress, cancels it, and shows the
``BatchResult``: a predictions table (patient, true, predicted, confidence, each task's
vote; with a fused bundle and the box ticked also the measures' and the fusion's class, see
``fused_columns``), patient- and recording-level macro-F1 with per-class precision / recall / F1 and
support, and the patient-level confusion matrix (``confusion.ConfusionView``). Exports go
through the result's own writers (atomic); nothing is written by a cancelled run.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...errors import SandError
from .. import workers
from ..messages import user_text
from .confusion import ConfusionView
from .fused_columns import (
    CHECKBOX_TEXT,
    SCORED,
    fusion_of,
    measured_run,
    scored_report,
    scored_title,
    side_by_side_text,
    unscored_note,
)
from .predictions import PredictionsModel, score


class SaveDialog:
    """Where to write an export (tests call the panel's export methods with a path instead)."""

    @classmethod
    def ask(cls, parent, title: str, suggestion: Path, pattern: str) -> Path | None:
        f, _ = QFileDialog.getSaveFileName(parent, title, str(suggestion), pattern)
        return Path(f) if f else None


class BatchPanel(QWidget):
    """Run / Cancel, progress, predictions, scores and the confusion matrix of one batch run.

    The window sets ``index`` (DatasetIndex), ``rows`` (a callable: the patients shown),
    ``classifier`` and ``cache_dir``; a classifier whose bundle carries a measures model (and
    Praat installed) shows the ``with_measures`` box. ``patientPicked(patient_id, task or None)`` when a
    prediction row or a confusion-matrix patient is double-clicked; ``done(result or None)``
    when a run ends (None: cancelled or failed); ``status(text)`` for the status line.
    """

    patientPicked = Signal(str, object)
    progressed = Signal(int, int)  # recordings done, total
    done = Signal(object)
    status = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
        self.rows = lambda: []
        self.fusion = None
        self.with_measures = QCheckBox(CHECKBOX_TEXT)
        self.with_measures.setToolTip(
            "Also take each patient's Praat measures (a few seconds per patient) and show the measures "
            "classifier and the fusion beside ConvNeXt."
        )
        self.with_measures.setVisible(False)
        self._classifier = None
        self.cache_dir: Path | None = None
        self.result = None
        self.worker = None
        self._stop = threading.Event()
        self.run_button = QPushButton("Run model on shown patients")
        self.cancel_button = QPushButton("Cancel")
        self.csv_button = QPushButton("Export CSV…")
        self.submission_button = QPushButton("Export submission…")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m recordings")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.summary = QLabel("No batch run yet.")
        self.summary.setWordWrap(True)
        self.scored = QComboBox()  # a fused run: whose classes the scores and the matrix show
        for part, name in SCORED:
            self.scored.addItem(f"Scores of {name}", part)
        self.scored.setVisible(False)
        self.scored.currentIndexChanged.connect(lambda _: self._show_scores())
        self.per_class = QTableWidget(0, 9)
        self.per_class.setHorizontalHeaderLabels(["class", "patients", "P", "R", "F1", "recs", "P", "R", "F1"])
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.verticalHeader().setDefaultSectionSize(22)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.per_class.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.per_class.resizeColumnsToContents()
        self.predictions = PredictionsModel(self)
        self.table = QTableView()
        self.table.setModel(self.predictions)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setSortingEnabled(False)
        self.table.activated.connect(self._row_activated)
        self.table.doubleClicked.connect(self._row_activated)
        self.confusion = ConfusionView()
        self.confusion.patientPicked.connect(lambda pid: self.patientPicked.emit(pid, None))
        self._layout()
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.submission_button.clicked.connect(self.export_submission_dialog)
        self.update_actions()

    def _layout(self) -> None:
        buttons = QHBoxLayout()
        for b in (self.run_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addWidget(self.progress, 1)
        for b in (self.csv_button, self.submission_button):
            buttons.addWidget(b)
        scores = QWidget()
        sl = QVBoxLayout(scores)
        sl.setContentsMargins(0, 0, 0, 0)
        sl.addWidget(self.scored)
        sl.addWidget(self.summary)
        sl.addWidget(self.per_class, 1)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(scores)
        lower.addWidget(self.confusion)
        lower.setSizes([440, 400])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(lower)
        split.setSizes([200, 400])
        lay = QVBoxLayout(self)
        lay.addLayout(buttons)
        lay.addWidget(self.with_measures)  # its own row: beside the buttons it made the window wider than 1366 px
        lay.addWidget(self.note)
        lay.addWidget(split, 1)

    # -- running ---------------------------------------------------------------------------------
    @property
    def classifier(self):
        return self._classifier

    @classifier.setter
    def classifier(self, classifier) -> None:
        """A new model: the measures box is offered only when its bundle has a fusion and Praat runs."""
        self._classifier = classifier
        self.fusion = fusion_of(classifier) if classifier is not None else None
        self.with_measures.setVisible(self.fusion is not None)
        if self.fusion is None:
            self.with_measures.setChecked(False)

    @property
    def running(self) -> bool:
        return self.worker is not None and not self.worker.done

    def update_actions(self) -> None:
        busy = self.running
        self.run_button.setEnabled(not busy and self.index is not None and self.classifier is not None)
        self.with_measures.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        self.csv_button.setEnabled(not busy and self.result is not None)
        self.submission_button.setEnabled(not busy and self.result is not None)

    def run(self) -> bool:
        """Start the model over the patients shown; False (and a status line) when it cannot."""
        if self.running:
            return False
        rows = list(self.rows())
        if self.index is None or self.classifier is None or not rows:
            why = "open a dataset first" if self.index is None else "no patient is shown"
            self._say(f"Cannot run: {'the model is still loading' if self.classifier is None else why}.")
            return False
        from ...batch import run_batch

        self._stop = threading.Event()
        n = sum(1 for r in rows for c in r.cells.values() if getattr(c, "path", None) is not None)
        self.progress.setRange(0, max(1, n))
        self.progress.setValue(0)
        fused = self.fusion is not None and self.with_measures.isChecked()
        extra = {"fusion": self.fusion} if fused else {}
        self.worker = workers.start(
            measured_run if fused else run_batch,
            self.index,
            rows,
            self.classifier,
            **extra,
            cache_dir=self.cache_dir,
            cancel=self._stop.is_set,
            returned=self._returned,
            errored=self._errored,
            progress=self._progress,
            finished=self._finished,
        )
        how = " with Praat measures and fusion" if fused else ""
        self._say(f"Running the model{how} on {len(rows)} patient(s)…")
        self.update_actions()
        return True

    def cancel(self) -> None:
        """Stop the run at the next recording; its result is dropped and nothing is written."""
        if self.running:
            self._stop.set()
            self.worker.cancel()
            self._say("Cancelling the batch run…")

    def _progress(self, value) -> None:
        done, total, *text = value if isinstance(value, tuple) else (value, self.progress.maximum())
        self.progress.setRange(0, max(1, int(total)))
        self.progress.setValue(int(done))
        if text and text[0]:
            self.note.setText(str(text[0]))
        self.progressed.emit(int(done), int(total))

    def _returned(self, result) -> None:
        if self.index is not None and callable(getattr(result, "mark", None)):
            result.mark(self.index)  # refused recordings appear in the grid with their reason
        self.show_result(result)
        m = result.metrics
        if m is None:
            self._say(f"Batch run done: {len(result.patients)} patient(s) predicted; none has a class to score.")
        else:
            part = "fusion" if m.get("fusion") else "network"
            self._say(
                f"Batch run done: patient-level macro-F1 {score(scored_report(m, part)['macro_f1'])} "
                f"({scored_title(m, part, short=True)}), recording-level {score(m['recording_level']['macro_f1'])}."
            )
        self.done.emit(result)

    def _errored(self, exc) -> None:
        from ...batch import Cancelled

        if not isinstance(exc, Cancelled):  # a cancelled run is reported once, by _finished
            self._say(user_text(exc))
            self.done.emit(None)

    def _finished(self) -> None:
        if self.worker is not None and self.worker.cancelled:
            self._say("Batch run cancelled; nothing was written.")
            self.done.emit(None)
        self.update_actions()

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.status.emit(text)

    # -- showing a result --------------------------------------------------------------------------
    def show_result(self, result) -> None:
        self.result = result
        tasks = list(self.index.tasks) if self.index is not None else []
        self.predictions.set_result(result, tasks)
        self.table.resizeColumnsToContents()
        fused = bool(result.metrics and result.metrics.get("fusion"))
        self.scored.blockSignals(True)
        self.scored.setCurrentIndex(0)  # a fused run opens on the class the app shows
        self.scored.blockSignals(False)
        self.scored.setVisible(fused)
        self._show_scores()

    def _show_scores(self) -> None:
        """Summary, per-class table and confusion matrix of the part chosen in ``scored``."""
        result = self.result
        if result is None:
            return
        m = result.metrics
        skipped = len(getattr(result, "skipped", []) or [])
        if m is None:
            self.summary.setText(f"No patient of this run has a class: no scores. Skipped recordings: {skipped}.")
            self.per_class.setRowCount(0)
            self.confusion.clear()
            self.update_actions()
            return
        part = self.scored.currentData() if m.get("fusion") else "network"
        classes = list(m["classes"])
        pl, rl = scored_report(m, part), m["recording_level"]
        note = unscored_note(self.fusion, m)
        self.summary.setText(
            f"<b>Patient level</b> ({scored_title(m, part)}): macro-F1 {score(pl['macro_f1'])}, accuracy "
            f"{score(pl['accuracy'])}, n = {pl['n']}. <b>Recording level</b> (ConvNeXt): macro-F1 "
            f"{score(rl['macro_f1'])}, accuracy {score(rl['accuracy'])}, n = {rl['n']}. Skipped recordings: {skipped}."
            + (f"<br>{side_by_side_text(m['fusion'], score)}" if m.get("fusion") else "")
            + (f"<br><span style='color:#b35900'>{note}</span>" if note else "")
        )
        self.per_class.setRowCount(len(classes))
        for i, c in enumerate(classes):
            p, r = pl["per_class"][str(c)], rl["per_class"][str(c)]
            cells = [c, p["support"], *(score(p[k]) for k in ("precision", "recall", "f1"))]
            cells += [r["support"], *(score(r[k]) for k in ("precision", "recall", "f1"))]
            for j, v in enumerate(cells):
                item = QTableWidgetItem(str(v))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.per_class.setItem(i, j, item)
        self.per_class.resizeColumnsToContents()
        self.confusion.set_result(result, classes, pl["confusion_matrix"], part=part)
        self.update_actions()

    def clear(self) -> None:
        self.result = None
        self.predictions.set_result(SimpleNamespace(recordings=[], patients={}), [])
        self.per_class.setRowCount(0)
        self.summary.setText("No batch run yet.")
        self.scored.setVisible(False)
        self.confusion.clear()
        self.update_actions()

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.patientPicked.emit(self.predictions.ids[index.row()], self.predictions.task_of(index.column()))

    # -- exports -----------------------------------------------------------------------------------
    def export_csv(self, path: Path) -> Path:
        """The predictions as CSV (``BatchResult.write_csv``, atomic); SandError without a result."""
        self._need_result()
        self.result.write_csv(Path(path))
        self._say(f"Predictions written to {Path(path).name}.")
        return Path(path)

    def export_submission(self, path: Path) -> Path:
        """A SAND submission (ID,CLASS; ``BatchResult.write_submission``) of ``submission_split``'s
        patients; SandError, and nothing written, when one of them has no result."""
        self._need_result()
        self.result.write_submission(Path(path), self.index, split=self.submission_split())
        self._say(f"SAND submission written to {Path(path).name}.")
        return Path(path)

    def submission_split(self) -> str | None:
        """The split a submission lists: the test split when the dataset has one, else the one split
        every patient of the run belongs to, else None (every patient of the dataset)."""
        if any(r.split == "test" for r in self.index.rows):
            return "test"
        splits = {r.split for r in self.index.rows if r.patient_id in self.result.patients}
        return splits.pop() if len(splits) == 1 else None

    def _need_result(self) -> None:
        if self.result is None:
            from ...errors import UsageError

            raise UsageError("there are no predictions to export yet; run the model first.")

    def _export_dialog(self, title: str, name: str, pattern: str, write) -> None:
        start = (self.index.root if self.index is not None else Path.home()) / name
        path = SaveDialog.ask(self, title, start, pattern)
        if path is None:
            return
        try:
            write(path)
        except SandError as exc:
            self._say(user_text(exc))
        except OSError as exc:
            from ...errors import storage_error

            self._say(str(storage_error(exc, path)))

    def export_csv_dialog(self) -> None:
        self._export_dialog("Export predictions", "predictions.csv", "CSV (*.csv)", self.export_csv)

    def export_submission_dialog(self) -> None:
        self._export_dialog("Export SAND submission", "submission.csv", "CSV (*.csv)", self.export_submission)
