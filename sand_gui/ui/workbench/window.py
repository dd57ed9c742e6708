"""The researcher's workbench: a whole dataset, its recordings, the model's view and its mistakes.

Left: the patients × tasks grid with its filters (``grid``) and the dataset's problems, one line
each. Right: tabs hosting the views of one recording — "Recording", "Compare", "Class mean"
(``inspector``, ``compare``, ``class_mean``) and "Why" (``explain_view``) — and the "Batch run"
panel (``batch_panel``: predictions, scores, confusion matrix). The window only routes: a
recording picked in the grid, in the predictions or in a confusion-matrix cell goes to every
view's ``show_recording(path, *, task_id, patient_id, label, spec, classifier)``. The dataset
is opened (``DatasetIndex.open``: nothing decoded) and the model loaded in workers; the views
and the batch run do their own long work off the GUI thread.

A view module that is not in this build is replaced by a label saying so; views are found by
their method (a QWidget class of the module with ``show_recording``), not by a class name.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QListWidget, QMainWindow, QSplitter, QTabWidget, QVBoxLayout, QWidget

from ...errors import SandError, one_line
from .. import workers
from ..dialogs import OpenFolderDialog
from ..importer import CORE, MODEL
from ..messages import StatusLine, user_text
from .batch_panel import BatchPanel
from .grid import PatientGrid, status_of

log = logging.getLogger(__name__)
# tab title, module under sand_gui.ui.workbench, the method its view must have
VIEWS = (
    ("Recording", "inspector", "show_recording"),
    ("Compare", "compare", "add_recording"),
    ("Class mean", "class_mean", "set_dataset"),
    ("Why", "explain_view", "show_recording"),
)
BATCH_TAB = "Batch run"


def find_view(module: str, method: str) -> QWidget | None:
    """An instance of the QWidget class of ``sand_gui.ui.workbench.<module>`` that has ``method``
    (None when the module is absent or cannot be imported: the tab then says so)."""
    name = f"{__package__}.{module}"
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            log.exception("workbench view %s cannot be imported", module)
        return None
    except Exception:  # noqa: BLE001 - a view that fails to import must not take the window down
        log.exception("workbench view %s is not available", module)
        return None
    found = [
        obj
        for obj in vars(mod).values()
        if isinstance(obj, type)
        and issubclass(obj, QWidget)
        and obj.__module__ == mod.__name__
        and callable(getattr(obj, method, None))
    ]
    found.sort(key=lambda c: (not c.__name__.endswith("View"), c.__name__))
    return found[0]() if found else None


def placeholder(title: str) -> QLabel:
    label = QLabel(f"The {title.lower()} view is not part of this build yet.")
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setObjectName("placeholder")
    return label


def default_cache_dir() -> Path:
    """Where the batch run keeps its feature files: the user's cache folder (QStandardPaths)."""
    return Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)) / "features"


class WorkbenchWindow(QMainWindow):
    """The workbench; ``opened(index)`` when a dataset is on screen, ``modelReady()`` when the model loaded."""

    opened = Signal(object)
    modelReady = Signal()
    recordingShown = Signal(str, str)  # patient id, task id

    def __init__(self, *, bundle: Path | None = None, device: str = "auto", cache_dir: Path | None = None,
                 load_model: bool = True):  # fmt: skip
        super().__init__()
        self.setWindowTitle("SAND workbench — datasets, predictions, mistakes")
        self.resize(1366, 768)
        self.index = None
        self.classifier = None
        self.device = device
        self.current: tuple | None = None  # (row, task) shown in the views
        self._open_worker = self._model_worker = None
        self.bundle_path = self._bundle(bundle)
        self.spec = self._spec()
        self._build(cache_dir)
        self._menus()
        if load_model and self.bundle_path is not None:
            QTimer.singleShot(0, self.load_model)

    # -- construction ------------------------------------------------------------------------------
    @staticmethod
    def _bundle(bundle: Path | None) -> Path | None:
        if bundle is not None:
            return Path(bundle)
        from ...resources import default_bundle_path

        return default_bundle_path()

    def _spec(self):
        """The model's FeatureSpec from its card (light: no torch), so views work before the network loads."""
        if self.bundle_path is None:
            return None
        from ...bundle import read_card

        try:
            return read_card(self.bundle_path).spec
        except SandError as exc:
            text = user_text(exc)
            QTimer.singleShot(0, lambda: self.say(text))
            return None

    def _build(self, cache_dir: Path | None) -> None:
        self.status_line = StatusLine()
        self.statusBar().addWidget(self.status_line, 1)
        self.grid = PatientGrid()
        self.problems = QListWidget()
        self.problems.setToolTip("What could not be read, one line each; the rest of the dataset is usable")
        self.problems.setMaximumHeight(110)
        self.problems.hide()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.grid, 1)
        ll.addWidget(self.problems)
        self.tabs = QTabWidget()
        self.views: dict[str, QWidget] = {}
        for title, module, method in VIEWS:
            view = find_view(module, method)
            self.views[title] = view if view is not None else placeholder(title)
            self.tabs.addTab(self.views[title], title)
        self.batch = BatchPanel()
        self.batch.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.batch.rows = lambda: list(self.grid.model.rows)
        self.tabs.addTab(self.batch, BATCH_TAB)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setSizes([600, 766])
        self.setCentralWidget(split)
        self.grid.recordingPicked.connect(self.show_recording)
        self.grid.compareRequested.connect(self.add_to_comparison)
        self.grid.filtered.connect(lambda shown, total: self._update_run_label(shown))
        self.batch.patientPicked.connect(self.show_patient)
        self.batch.status.connect(self.say)

    def _menus(self) -> None:
        def act(text, slot, shortcut=None, *, checkable=False) -> QAction:
            a = QAction(text, self)
            a.setCheckable(checkable)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            (a.toggled if checkable else a.triggered).connect(slot)
            return a

        self.act_open = act("&Open dataset…", self.open_dataset_dialog, "Ctrl+O")
        self.act_csv = act("Export predictions as &CSV…", self.batch.export_csv_dialog)
        self.act_submission = act("Export SAND &submission…", self.batch.export_submission_dialog)
        self.act_close = act("&Close", self.close, QKeySequence.StandardKey.Close)
        self.act_classes = act("Show &classes", self.grid.filters.show_classes.setChecked, checkable=True)
        self.grid.filters.show_classes.toggled.connect(self.act_classes.setChecked)
        self.act_run = act("&Run model on shown patients", self.batch.run, "Ctrl+R")
        self.act_cancel = act("C&ancel run", self.batch.cancel, "Esc")
        menus = {
            "&File": (self.act_open, None, self.act_csv, self.act_submission, None, self.act_close),
            "&Model": (self.act_run, self.act_cancel),
            "&View": (self.act_classes,),
        }
        for title, actions in menus.items():
            m = self.menuBar().addMenu(title)
            for a in actions:
                m.addSeparator() if a is None else m.addAction(a)
        self.batch.done.connect(self._batch_done)
        self._update_actions()

    def _batch_done(self, result) -> None:
        if result is not None:  # the run marked the recordings it refused: show their reasons
            self.grid.refilter()
        self._update_actions()

    def _update_actions(self) -> None:
        self.batch.update_actions()
        has = self.batch.result is not None and not self.batch.running
        self.act_csv.setEnabled(has)
        self.act_submission.setEnabled(has)
        self.act_run.setEnabled(self.batch.run_button.isEnabled())
        self.act_cancel.setEnabled(self.batch.running)

    def _update_run_label(self, shown: int) -> None:
        self.batch.run_button.setText(f"Run model on the {shown} patient(s) shown")
        self._update_actions()

    def say(self, text: str, ms: int = 0) -> None:
        self.status_line.show_message(one_line(text, limit=1000), ms)

    # -- the model ----------------------------------------------------------------------------------
    def load_model(self) -> None:
        """Load the network in a worker (the grid and the views work meanwhile)."""
        from ...model import Classifier

        if self._model_worker is not None and not self._model_worker.done:
            return
        self.say(f"Loading the model {self.bundle_path.name}…")
        self._model_worker = workers.start(
            Classifier.from_file,
            self.bundle_path,
            device=self.device,
            returned=self._model_loaded,
            errored=lambda exc: self.say(user_text(exc)),
            needs=MODEL,
        )

    def _model_loaded(self, classifier) -> None:
        self.classifier = self.batch.classifier = classifier
        self.spec = classifier.spec
        self.say(f"Model {classifier.card.name} ready on {classifier.device.name}.", 5000)
        self._update_actions()
        self.modelReady.emit()
        if self.current is not None:  # the views get the network they were waiting for
            self.show_recording(*self.current)

    # -- the dataset ----------------------------------------------------------------------------------
    def open_dataset_dialog(self) -> None:
        start = self.index.root.parent if self.index is not None else Path.home()
        folder = OpenFolderDialog.ask(self, start, title="Open a dataset (SAND release, synthetic corpus, folder)")
        if folder is not None:
            self.open_dataset(folder)

    def open_dataset(self, path: Path, *, test_root: Path | None = None) -> None:
        """Index ``path`` in a worker (headers at most, nothing decoded), then show the grid."""
        from ...dataset_index import DatasetIndex

        if self.batch.running:
            self.say("A batch run is going on; cancel it before opening another dataset.")
            return
        self.say(f"Opening {one_line(Path(path).name)}…")
        self._open_worker = workers.start(
            DatasetIndex.open,
            Path(path),
            test_root=test_root,
            returned=self.set_index,
            errored=lambda exc: self.say(user_text(exc)),
            needs=CORE,
        )

    def set_index(self, index) -> None:
        """Show an opened ``DatasetIndex``: grid, problems, the class-mean view's dataset."""
        self.index = self.batch.index = index
        self.current = None
        self.batch.clear()
        self.grid.set_index(index)
        problems = [one_line(p, limit=1000) for p in index.problems]
        self.problems.clear()
        self.problems.addItems(problems)
        self.problems.setVisible(bool(problems))
        n = len(index.rows)
        note = f"; {len(problems)} problem(s) listed below the grid" if problems else ""
        self.say(f"{one_line(index.root.name)}: {n} patients × {len(index.tasks)} tasks ({index.kind}){note}.")
        self.setWindowTitle(f"SAND workbench — {one_line(index.root.name, limit=80)}")
        view = self.views.get("Class mean")
        if self.spec is not None and callable(getattr(view, "set_dataset", None)):
            self._call(view.set_dataset, index, self.spec)
        self._update_actions()
        self.opened.emit(index)

    # -- routing a picked recording -----------------------------------------------------------------
    def _row(self, patient_id: str):
        return next((r for r in (self.index.rows if self.index else []) if r.patient_id == patient_id), None)

    def _recording(self, row, task: str | None) -> tuple[str, Path] | None:
        """(task, path) of ``row``'s ``task``, or its first readable recording when ``task`` is None."""
        order = [task] if task else list(self.index.tasks)
        for t in order:
            cell = row.cells.get(t)
            if cell is not None and cell.path is not None and status_of(cell) not in ("missing", "unreadable"):
                return t, Path(cell.path)
        cell = row.cells.get(task) if task else None
        why = f" ({one_line(cell.reason)})" if cell is not None and cell.reason else ""
        what = f"no usable {task} recording" if task else "no usable recording"
        self.say(f"{row.patient_id} has {what}{why}.")
        return None

    def _keywords(self, row, task: str) -> dict:
        label = row.label if self.grid.filters.show_classes.isChecked() else None
        return {"task_id": task, "patient_id": row.patient_id, "label": label, "spec": self.spec,
                "classifier": self.classifier}  # fmt: skip

    def _call(self, fn, *args, **kwargs) -> None:
        try:
            fn(*args, **kwargs)
        except SandError as exc:
            self.say(user_text(exc))

    def show_recording(self, row, task: str | None = None) -> bool:
        """Show ``row``'s ``task`` (None: its first usable task) in every view that shows recordings."""
        if self.index is None or self.spec is None:
            return False
        found = self._recording(row, task)
        if found is None:
            return False
        task, path = found
        self.current = (row, task)
        for title, _module, _method in VIEWS:
            fn = getattr(self.views[title], "show_recording", None)
            if callable(fn):
                self._call(fn, path, **self._keywords(row, task))
        self.say(f"{row.patient_id} · {task}: {one_line(path.name)}", 8000)
        self.recordingShown.emit(row.patient_id, task)
        return True

    def show_patient(self, patient_id: str, task: str | None = None) -> bool:
        """A patient picked in the predictions or a confusion-matrix cell: its recordings, in the views."""
        row = self._row(patient_id)
        if row is None:
            return False
        self.grid.select_patient(patient_id, task)
        shown = self.show_recording(row, task)
        if shown and not isinstance(self.views["Recording"], QLabel):
            self.tabs.setCurrentWidget(self.views["Recording"])
        return shown

    def add_to_comparison(self, row, task: str) -> bool:
        view = self.views["Compare"]
        found = self._recording(row, task) if self.spec is not None else None
        if found is None or not callable(getattr(view, "add_recording", None)):
            return False
        self._call(view.add_recording, found[1], **self._keywords(row, found[0]))
        self.tabs.setCurrentWidget(view)
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        self.batch.cancel()
        for view in self.views.values():  # children get no close event of their own: their workers stop here
            if callable(getattr(view, "cancel", None)):
                view.cancel()
            view.close()
        for w in (self._open_worker, self._model_worker):
            if w is not None:
                w.cancel()
        workers.wait_all(60000)
        super().closeEvent(event)


def main(path: str | Path | None = None, *, bundle: str | Path | None = None, device: str = "auto") -> int:
    """``sand-gui workbench [DIR]``: the workbench window, on ``path`` when given; the exit code."""
    import os

    from ..app import create_app, install_excepthook, setup_logging

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    app = create_app()
    setup_logging()
    install_excepthook()
    window = WorkbenchWindow(bundle=Path(bundle) if bundle else None, device=device)
    window.show()
    if path is not None:
        window.open_dataset(Path(path))
    return app.exec()
