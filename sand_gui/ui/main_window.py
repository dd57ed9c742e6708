"""The main window: session, the eight tasks, what the model sees, the result.

The window decides which thread runs what and shows what comes back; all computation is
in the Qt-free core (through ``jobs``, ``display.display_data`` and the model loader).
Nothing imported here at start-up imports torch, timm or torchaudio.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout, QLabel, QMainWindow, QPushButton, QSplitter, QVBoxLayout, QWidget,
)

from typing import TYPE_CHECKING

from ..errors import BundleError, DatasetError, SandError
from ..tasks import TASK_IDS, get_task, patient_id_from_filename, task_from_filename
from . import jobs, workers
from .card_dialog import SYNTHETIC_TEXT, CardDialog, card_summary
from .dialogs import ExportDialog, OpenFilesDialog, OpenFolderDialog, PatientChoiceDialog, TaskChoiceDialog
from .display import FeatureView, display_data
from .level_meter import LevelMeter
from .messages import MessageBox, user_text
from .model_loader import ModelLoader, warm_up_torch
from .recording_controller import RecordingController, backend_status, input_device_names
from .result_panel import ResultPanel
from .session_dialog import NewSessionDialog, ReopenDialog
from .settings import Settings, SettingsDialog
from .task_list import RowState, TaskTable

if TYPE_CHECKING:  # the core's numpy-based modules load after the first paint
    from ..bundle import ModelCard
    from ..features import FeatureSpec

log = logging.getLogger("sand_gui")


def read_card(path: Path):
    from ..bundle import read_card as _read_card

    return _read_card(path)

NO_MODEL = "No model loaded — choose one in Settings"


def default_bundle_path() -> Path | None:
    """``resources.default_bundle_path()``, imported when first needed (importlib.resources
    is not needed before the first paint)."""
    from .. import resources

    return resources.default_bundle_path()


def demo_dir() -> Path:
    """The shipped synthetic demo patients (a SAND-layout folder)."""
    from .. import resources

    return resources.demo_dir()


class MainWindow(QMainWindow):
    resultShown = Signal(object)  # AnalysisResult, once it is on screen
    rowChecked = Signal(str)  # task id whose check on load finished (either way)
    exported = Signal(list)  # the written report files
    modelChanged = Signal()  # a model finished loading, or failed to

    def __init__(self, settings: Settings | None = None, *, load_model: bool = True):
        super().__init__()
        self.settings = settings or Settings()
        self.session = None  # sand_gui.session.Session
        self.rows: dict[str, RowState] = {t: RowState() for t in TASK_IDS}
        self.card: ModelCard | None = None
        self.bundle_path: Path | None = None
        self.classifier = None
        self.result = None
        self.torch_ready = False
        self._display_cache: dict[tuple, object] = {}
        self._display_key: tuple | None = None
        self._analysis: workers.Worker | None = None
        self._playing = False
        self._pending_load: Path | None = None  # the bundle to load once the window is painted
        self._shown = False
        self.audio_ok, self.audio_reason = False, "checking the audio devices…"
        self.setWindowTitle("SAND — dysarthria severity assessment")
        self.resize(1280, 860)
        self.setAcceptDrops(True)

        self.loader = ModelLoader(self)
        self.loader.loaded.connect(self._model_loaded)
        self.loader.failed.connect(self._model_failed)
        self.recording = RecordingController(self)
        self.recording.level.connect(lambda lv: self.meter.set_level(lv.peak, lv.rms, lv.clipped))
        self.recording.elapsed.connect(self._show_elapsed)
        self.recording.stopped.connect(self._take_stopped)
        self.recording.failed.connect(self._take_failed)

        self._build_actions()
        self._build_ui()
        self._show_session()
        self._start_model(load_model)
        QTimer.singleShot(500, self._after_show)  # in case no paint arrives (a hidden window)

    # -- construction -------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip or text.replace('…', '')}{f' ({keys})' if keys else ''}")
        act.setStatusTip(act.toolTip())
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_new = a("&New session…", self.new_session, QKeySequence.StandardKey.New)
        self.act_load = a("&Load recordings…", self.load_files_dialog, "Ctrl+O", "Load audio files; the task is read from the file name")
        self.act_folder = a("Open patient &folder…", self.open_folder_dialog, "Ctrl+Shift+O")
        self.act_sand = a("Open patient from SAND &dataset…", self.open_sand_dialog)
        self.act_demo = a("Open a &demo patient (synthetic speech)…", lambda: self.open_sand(demo_dir()))
        self.act_export = a("&Export report…", self.export_dialog, "Ctrl+E", "Export the report as PDF, JSON and CSV")
        self.act_quit = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_record = a("&Record / stop", self.toggle_recording, "Space", "Record the selected task, or stop")
        self.act_play = a("&Play take", self.toggle_playback, "P", "Play the selected task's recording")
        self.act_analyse = a("&Analyse", self.analyse, "Ctrl+Return", "Analyse the recordings")
        self.act_card = a("Model &card…", self.show_card, None, "What the model is and what it was trained on")
        self.act_settings = a("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        if self.act_settings.shortcut().isEmpty():
            self.act_settings.setShortcut(QKeySequence("Ctrl+,"))
        bar = self.menuBar()
        m = bar.addMenu("&Session")
        for act in (self.act_new, self.act_load, self.act_folder, self.act_sand, self.act_demo, None, self.act_export, None, self.act_quit):
            m.addSeparator() if act is None else m.addAction(act)
        m = bar.addMenu("&Task")
        for act in (self.act_record, self.act_play, None, self.act_analyse):
            m.addSeparator() if act is None else m.addAction(act)
        m = bar.addMenu("&Model")
        m.addAction(self.act_card)
        m.addAction(self.act_settings)
        for m in bar.findChildren(type(m)):
            m.setToolTipsVisible(True)
        self.act_export.setEnabled(False)
        self.act_play.setEnabled(False)

    def _build_ui(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 4, 8, 4)

        self.banner = QWidget()
        self.banner.setStyleSheet("background:#fff3b0;border:1px solid #e0c040")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(8, 3, 8, 3)
        self.banner_text = QLabel(SYNTHETIC_TEXT)
        self.banner_text.setWordWrap(True)
        self.banner_text.setStyleSheet("border:none;font-weight:bold")
        bl.addWidget(self.banner_text, 1)
        self.banner.setVisible(False)
        outer.addWidget(self.banner)

        top = QHBoxLayout()
        self.session_label = QLabel()
        self.session_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.session_label, 1)
        self.model_label = QLabel(NO_MODEL)
        self.model_label.setWordWrap(True)
        top.addWidget(self.model_label, 1)
        self.card_button = QPushButton("Model card…")
        self.card_button.clicked.connect(self.show_card)
        self.card_button.setToolTip(self.act_card.toolTip())
        top.addWidget(self.card_button)
        outer.addLayout(top)

        # left: tasks, recording strip, display --------------------------------------------
        self.table = TaskTable()
        self.table.filesDropped.connect(self.files_dropped)
        self.table.recordRequested.connect(self.toggle_recording)
        self.table.playRequested.connect(self.toggle_playback)
        self.table.taskSelected.connect(self._task_selected)

        strip = QHBoxLayout()
        self.record_button = QPushButton("● Record")
        self.record_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.record_button.clicked.connect(self.toggle_recording)
        self.record_button.setEnabled(False)
        self.record_button.setToolTip(self.audio_reason)
        self.play_button = QPushButton("▶ Play")
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.clicked.connect(self.toggle_playback)
        self.play_button.setToolTip(self.act_play.toolTip())
        self.load_button = QPushButton("Load…")
        self.load_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.load_button.clicked.connect(self.load_files_dialog)
        self.load_button.setToolTip(self.act_load.toolTip())
        self.meter = LevelMeter()
        self.elapsed_label = QLabel("")
        self.elapsed_label.setMinimumWidth(110)
        self.instruction = QLabel("")
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet("font-size:11pt")
        for w in (self.record_button, self.play_button, self.load_button):
            strip.addWidget(w)
        strip.addWidget(self.meter, 1)
        strip.addWidget(self.elapsed_label)

        self.display = FeatureView()
        left = QSplitter(Qt.Orientation.Vertical)
        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.table, 1)
        ul.addWidget(self.instruction)
        ul.addLayout(strip)
        left.addWidget(upper)
        left.addWidget(self.display)
        left.setSizes([330, 470])

        # right: analyse, result, export -----------------------------------------------------
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.analyse_button = QPushButton("Analyse  (Ctrl+Return)")
        self.analyse_button.setStyleSheet("font-size:12pt;padding:6px")
        self.analyse_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.analyse_button.clicked.connect(self.analyse)
        self.result_panel = ResultPanel()
        self.export_button = QPushButton("Export report (PDF, JSON, CSV)…")
        self.export_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.export_button.clicked.connect(self.export_dialog)
        self.export_button.setToolTip(self.act_export.toolTip())
        rl.addWidget(self.analyse_button)
        rl.addWidget(self.result_panel, 1)
        rl.addWidget(self.export_button)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([760, 520])
        outer.addWidget(split, 1)
        self.setCentralWidget(central)

        self.model_status = QLabel(NO_MODEL)
        self.statusBar().addPermanentWidget(self.model_status)
        self._update_actions()
        self._task_selected(self.table.current_task())
        self.table.setFocus()

    @property
    def model_loading(self) -> bool:
        return self.loader.busy or self._pending_load is not None

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._shown:
            QTimer.singleShot(0, self._after_show)

    def _after_show(self) -> None:
        """Work started once the window has been painted: the model card (numpy and the core
        load here), the model itself (torch and timm import in a worker, which competes for
        the CPU and the GIL), the audio device scan, the plotting canvas."""
        if self._shown:
            return
        self._shown = True
        path, self._pending_load = self._pending_load, None
        if path is not None and self._read_startup_card(path) and self._load_model:
            self.loader.load(path, device=self.settings.device)
        elif not self.torch_ready and self.classifier is None:
            workers.start(warm_up_torch, returned=lambda _: self._torch_loaded())
        self.audio_ok, self.audio_reason = backend_status()
        self._update_actions()
        QTimer.singleShot(50, self.display.ensure_canvas)

    # -- model ----------------------------------------------------------------------------------
    def _start_model(self, load: bool) -> None:
        """Choose the bundle to start with; its card is read and the model loaded after the first paint."""
        self._load_model = load
        path = self.settings.bundle_path
        if path is not None and not path.is_file():
            self.statusBar().showMessage(f"The model bundle {path} is gone; using the bundled model.", 10000)
            path = None
        path = path or default_bundle_path()
        if path is None:
            self._show_model_state(NO_MODEL)
            return
        self._pending_load = path
        self._show_model_state("Loading model…" if load else f"Model {path.name} not loaded")
        self.model_label.setText(f"Model: {path.name}")

    def _read_startup_card(self, path: Path) -> bool:
        try:
            self.card = read_card(path)  # no torch: shown at once
        except BundleError as exc:
            self._show_model_state(f"{NO_MODEL} ({exc})")
            self._update_actions()
            return False
        self.bundle_path = path
        self._show_card_summary(self.card)
        self._update_actions()
        return True

    def _show_model_state(self, text: str) -> None:
        self.model_status.setText(text)
        if self.card is None:
            self.model_label.setText(card_summary(None))
            self.banner.setVisible(False)

    def _show_card_summary(self, card: ModelCard | None) -> None:
        self.model_label.setText(card_summary(card))
        self.model_label.setToolTip("" if card is None else f"{card.name}: {card.training_data.get('description', '')}")
        self.banner.setVisible(card is not None and card.synthetic)

    def change_bundle(self, path: Path | None) -> bool:
        """Ask for another bundle (None: the bundled one). Refused at once when its card is
        unreadable, or later when its weights are; the previous model stays in use."""
        path = path or default_bundle_path()
        if path is None:
            MessageBox.show(self, "No bundled model is installed; choose a model bundle file.")
            return False
        try:
            read_card(path)
        except BundleError as exc:
            MessageBox.show(self, f"Model bundle refused: {exc} The previous model is kept.")
            return False
        self._show_model_state(f"Loading model {path.name}…")
        self.loader.load(path, device=self.settings.device)
        self._update_actions()
        return True

    def _model_loaded(self, path: Path, classifier) -> None:
        self.classifier, self.card, self.bundle_path = classifier, classifier.card, Path(path)
        self.torch_ready = True
        self.settings.bundle_path = None if Path(path) == default_bundle_path() else Path(path)
        self.settings.q.sync()
        self._show_card_summary(self.card)
        dev = classifier.device
        note = f" ({dev.note})" if dev.note else ""
        self._show_model_state(f"Model ready: {self.card.name} on {dev.name}{note}")
        self._update_actions()
        self._recheck_rows(classifier.spec)
        self._task_selected(self.table.current_task())
        self.modelChanged.emit()

    def _recheck_rows(self, spec: FeatureSpec) -> None:
        """Rows were checked with another FeatureSpec (another model's rate, VAD or minimum
        voice): check their files again, so what the list says holds for this model."""
        for task_id, row in list(self.rows.items()):
            if row.file is None or row.spec in (None, spec) or row.status in ("recording", "checking"):
                continue
            kind = row.status if row.status in ("recorded", "loaded") else ("recorded" if "_take" in row.file.stem else "loaded")
            self._check(task_id, row.file, kind, record=False)

    def _model_failed(self, path: Path, exc) -> None:
        if self.classifier is not None:
            c = self.classifier
            self._show_model_state(f"Model ready: {c.card.name} on {c.device.name}")
            what = "Model bundle refused" if isinstance(exc, BundleError) else "The model could not be loaded"
            MessageBox.show(self, f"{what}: {user_text(exc)} The previous model ({c.bundle.path.name}) is kept.")
        else:
            self.card = None
            self._show_card_summary(None)
            self._show_model_state(f"{NO_MODEL} ({user_text(exc)})")
            MessageBox.show(self, f"The model could not be loaded: {user_text(exc)}")
        self._update_actions()
        self.modelChanged.emit()

    def _torch_loaded(self) -> None:
        self.torch_ready = True
        self._task_selected(self.table.current_task())

    @property
    def spec(self) -> FeatureSpec:
        """The FeatureSpec everything is shown and checked with: the loaded model's, else its card's."""
        from ..features import SEED_SPEC

        if self.classifier is not None:
            return self.classifier.spec
        return self.card.spec if self.card is not None else SEED_SPEC

    def show_card(self) -> None:
        if self.card is None:
            MessageBox.show(self, "No model is loaded; choose a model bundle in Settings.", warning=False)
            return
        CardDialog.ask(self, self.card)

    # -- settings ---------------------------------------------------------------------------------
    def open_settings(self) -> None:
        old = self.settings.values()
        values = SettingsDialog.ask(self, old, input_devices=input_device_names())
        if values is None:
            return
        self.settings.store(values)
        self._show_session()
        current = self.bundle_path
        wanted = values.bundle_path or default_bundle_path()
        if wanted != current or values.device != old.device:
            self.change_bundle(values.bundle_path)

    # -- session ----------------------------------------------------------------------------------
    def new_session(self, *, patient_id: str = "", age=None, sex=None) -> bool:
        from ..session import Session

        info = NewSessionDialog.ask(self, patient_id=patient_id, age=age, sex=sex)
        if info is None:
            return False
        try:
            session = Session.create(self.settings.data_dir, info.patient_id, age=info.age,
                                     sex=info.sex, date=info.date or None)
        except (SandError, OSError) as exc:
            MessageBox.error(self, exc)
            return False
        self._close_session()
        self.session = session
        self.rows = {t: RowState() for t in TASK_IDS}
        for t in TASK_IDS:
            self.table.set_state(t, self.rows[t])
        self.result = None
        self.result_panel.clear()
        self._show_session()
        self._update_actions()
        self._task_selected(self.table.current_task())
        return True

    def _close_session(self) -> None:
        if self.session is not None:
            if self.result is not None:
                self.session.finished = True
            self._save_session()

    def _save_session(self) -> None:
        if self.session is None:
            return
        try:
            self.session.save()
        except OSError as exc:
            MessageBox.show(self, f"The session file could not be saved in {self.session.folder}: {exc}.")

    def _ensure_session(self, patient_id: str = "", **info) -> bool:
        return self.session is not None or self.new_session(patient_id=patient_id or "", **info)

    def _show_session(self) -> None:
        s = self.session
        if s is None:
            self.session_label.setText("<b>No session</b> — Ctrl+N to start one, or drop recordings on the list.")
            self.session_label.setToolTip(f"Sessions are kept in {self.settings.data_dir}")
            return
        extra = " · ".join(x for x in (f"age {s.age}" if s.age else "", s.sex or "") if x)
        self.session_label.setText(f"<b>Patient {s.patient_id}</b> · {s.date}{' · ' + extra if extra else ''}")
        self.session_label.setToolTip(f"Session folder: {s.folder}")

    def offer_unfinished(self) -> None:
        """At start-up: offer to reopen a session the application did not finish."""
        from ..session import unfinished_sessions

        try:
            folders = unfinished_sessions(self.settings.data_dir)
        except (SandError, OSError):
            return
        if not folders:
            return
        folder = ReopenDialog.ask(self, folders)
        if folder is not None:
            self.reopen_session(folder)

    def reopen_session(self, folder: Path) -> None:
        from ..session import Session

        try:
            session = Session.load(folder)
        except (SandError, OSError, ValueError) as exc:
            MessageBox.show(self, f"The session in {folder} cannot be reopened: {user_text(exc)}")
            return
        self._close_session()
        self.session = session
        self.result = None
        self.result_panel.clear()
        self._show_session()
        for t in TASK_IDS:
            path = session.current(t)
            self.rows[t] = RowState()
            self.table.set_state(t, self.rows[t])
            if path is not None:
                kind = "recorded" if Path(path).parent == Path(session.folder) else "loaded"
                self._check(t, Path(path), kind, record=False)
        self._update_actions()

    # -- loading ----------------------------------------------------------------------------------
    def load_files_dialog(self) -> None:
        start = self.session.folder if self.session else Path.home()
        files = OpenFilesDialog.ask(self, start)
        if files:
            self.load_files(files)

    def files_dropped(self, paths: list, row: int) -> None:
        self.load_files([Path(p) for p in paths], drop_task=TASK_IDS[row] if 0 <= row < len(TASK_IDS) else None)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped(paths, -1)

    def load_files(self, paths: list[Path], *, drop_task: str | None = None) -> None:
        """Assign files to tasks (from their names, else asked) and check each in a worker."""
        folders = [p for p in paths if p.is_dir()]
        files = sorted(p for p in paths if not p.is_dir())
        for folder in folders:
            self.open_folder(folder)
        if not files:
            return
        assigned: dict[str, Path] = {}
        for f in files:
            task = task_from_filename(f)
            task_id = task.id if task else TaskChoiceDialog.ask(self, f, default=drop_task if len(files) == 1 else None)
            if task_id is None:
                continue
            assigned[task_id] = f
        if not assigned:
            return
        pid = next((patient_id_from_filename(f) for f in assigned.values() if patient_id_from_filename(f)), "")
        if not self._ensure_session(pid):
            return
        for task_id, f in assigned.items():
            self._check(task_id, f, "loaded")
        self.table.select_task(next(iter(assigned)))

    def open_folder_dialog(self) -> None:
        folder = OpenFolderDialog.ask(self, self.settings.data_dir.parent)
        if folder is not None:
            self.open_folder(folder)

    def open_folder(self, folder: Path) -> None:
        from ..dataset import SandLayout, collect_recordings
        from ..session import SESSION_FILE

        if (folder / SESSION_FILE).is_file():  # a session folder of this application
            self.reopen_session(folder)
            return
        if SandLayout.looks_like(folder):
            self.open_sand(folder)
            return
        try:
            found = collect_recordings(folder)
        except SandError as exc:
            MessageBox.error(self, exc)
            return
        pid = next((patient_id_from_filename(f) for f in found.values() if patient_id_from_filename(f)), folder.name)
        if not self.new_session(patient_id=pid):
            return
        for task_id, f in found.items():
            self._check(task_id, Path(f), "loaded")

    def open_sand_dialog(self) -> None:
        folder = OpenFolderDialog.ask(self, Path.home(), title="Open a SAND-layout dataset")
        if folder is not None:
            self.open_sand(folder)

    def open_sand(self, root: Path) -> None:
        from ..dataset import SandLayout

        try:
            layout = SandLayout(root)
            try:
                patients = {p.id: p for p in layout.patients()}
            except DatasetError:  # no workbook: list the IDs found in the audio folders
                ids = sorted({patient_id_from_filename(f) for f in root.glob("*/*/*") if patient_id_from_filename(f)})
                patients = {i: None for i in ids}
            if not patients:
                raise DatasetError(f"{root}: no patient found in this dataset.")
            described = {i: " · ".join(x for x in (f"class {p.label}" if p and p.label else "", p.sex if p and p.sex else "",
                                                      f"{p.age} y" if p and p.age else "") if x) for i, p in patients.items()}
            pid = PatientChoiceDialog.ask(self, sorted(patients), descriptions=described)
            if pid is None:
                return
            found = layout.recordings(pid)
            if not found:
                raise DatasetError(f"{root}: no recordings of patient {pid}.")
        except SandError as exc:
            MessageBox.error(self, exc)
            return
        p = patients.get(pid)
        if not self.new_session(patient_id=pid, age=getattr(p, "age", None), sex=getattr(p, "sex", None)):
            return
        for task_id, f in found.items():
            self._check(task_id, Path(f), "loaded")

    def _check(self, task_id: str, path: Path, kind: str, *, record: bool = True) -> None:
        """Show ``path`` as the task's recording and check it in a worker (no torch needed)."""
        if record and self.session is not None:
            (self.session.add_take if kind == "recorded" else self.session.set_loaded)(task_id, path)
            self._save_session()
        spec = self.spec
        self.rows[task_id] = RowState("checking", path, spec=spec)
        self.table.set_state(task_id, self.rows[task_id])
        self._task_selected(self.table.current_task())
        workers.start(
            jobs.check_recording, path, spec,
            returned=lambda c, t=task_id, p=path, k=kind: self._checked(t, p, k, c, None),
            errored=lambda e, t=task_id, p=path, k=kind: self._checked(t, p, k, None, e),
        )

    def _checked(self, task_id: str, path: Path, kind: str, checked, exc) -> None:
        row = self.rows[task_id]
        if row.file != path:  # a newer file replaced this one meanwhile
            return
        if exc is not None:
            reason = user_text(exc)
            self.rows[task_id] = RowState("rejected", path, error=reason, spec=row.spec)
            if self.session is not None:
                self.session.reject(task_id, reason)
                self._save_session()
        else:
            self.rows[task_id] = RowState(kind, path, checked.seconds, checked.voiced_seconds, checked.warnings, spec=row.spec)
        self.table.set_state(task_id, self.rows[task_id])
        if task_id == self.table.current_task():
            self._task_selected(task_id)
        self._update_actions()
        self.rowChecked.emit(task_id)

    # -- display ----------------------------------------------------------------------------------
    def _task_selected(self, task_id: str) -> None:
        task = get_task(task_id)
        self.instruction.setText(f"<b>{task.name}</b> — {task.instruction} <i>(about {task.recommended_seconds:.0f} s)</i>")
        self._update_actions()
        row = self.rows[task_id]
        if row.file is None:
            self.display.show_message(f"No recording for “{task.name}” yet.\nSpace: record · Ctrl+O or drop a file: load.")
            return
        if row.status == "rejected":
            self.display.show_message(f"{task.name}: rejected.\n{row.error}\nRecord it again (Space) or load another file.")
            return
        if row.status in ("checking", "recording"):
            self.display.show_message(f"{task.name}: checking the recording…")
            return
        spec = self.spec
        key = (task_id, str(row.file), spec)
        if key in self._display_cache:
            self._display_key = key
            self.display.show_data(self._display_cache[key])
            return
        if key == self._display_key:
            return  # already being computed
        self._display_key = key
        waiting = "" if self.torch_ready else " (loading the signal-processing library first)"
        self.display.show_message(f"computing… {task.name}{waiting}")
        workers.start(
            display_data, row.file, task_id, spec,
            returned=lambda d, k=key: self._display_ready(k, d),
            errored=lambda e, k=key: self._display_failed(k, e),
        )

    def _display_ready(self, key: tuple, data) -> None:
        self._display_cache[key] = data
        self.torch_ready = True
        if key == self._display_key:
            self.display.show_data(data)

    def _display_failed(self, key: tuple, exc) -> None:
        if key == self._display_key:
            self._display_key = None
            self.display.show_message(user_text(exc))

    # -- recording and playback -------------------------------------------------------------------
    def toggle_recording(self) -> None:
        if self.recording.recording:
            self.recording.stop()
            return
        if not self.audio_ok:
            self.statusBar().showMessage(self.audio_reason, 8000)
            return
        task_id = self.table.current_task()
        if not self._ensure_session():
            return
        task = get_task(task_id)
        path = self.session.next_take_path(task_id)
        try:
            self.recording.start(task_id, path, device_name=self.settings.input_device,
                                 target_seconds=task.recommended_seconds, auto_stop=self.settings.auto_stop)
        except SandError as exc:
            MessageBox.error(self, exc)
            return
        self.rows[task_id] = RowState("recording", None)
        self.table.set_state(task_id, self.rows[task_id])
        self.meter.reset()
        self.record_button.setText("■ Stop (Space)")
        self.statusBar().showMessage(f"Recording “{task.name}”… Space to stop.")
        self._update_actions()

    def _show_elapsed(self, seconds: float, target: float) -> None:
        self.elapsed_label.setText(f"{seconds:4.1f} / {target:.0f} s")
        self.elapsed_label.setStyleSheet("color:#1a7f1a;font-weight:bold" if seconds >= target else "")

    def _take_stopped(self, task_id: str, take, note: str) -> None:
        self.record_button.setText("● Record")
        self.meter.reset()
        if note:
            MessageBox.show(self, note)
        if take.seconds <= 0 or not Path(take.path).exists():
            self.rows[task_id] = RowState()
            prev = self.session.current(task_id) if self.session else None
            if prev is not None:
                self._check(task_id, Path(prev), "recorded", record=False)
            else:
                self.table.set_state(task_id, self.rows[task_id])
            self.statusBar().showMessage("Nothing was recorded.", 8000)
            self._update_actions()
            return
        self.statusBar().showMessage(f"Saved {Path(take.path).name} ({take.seconds:.1f} s).", 8000)
        self._check(task_id, Path(take.path), "recorded")

    def _take_failed(self, task_id: str, message: str) -> None:
        self.record_button.setText("● Record")
        self.rows[task_id] = RowState()
        self.table.set_state(task_id, self.rows[task_id])
        MessageBox.show(self, message)
        self._update_actions()

    def toggle_playback(self) -> None:
        from ..recorder import is_playing, play, stop_playback

        if self._playing and is_playing():
            stop_playback()
            self._playing = False
            return
        row = self.rows[self.table.current_task()]
        if row.file is None or not row.file.exists():
            self.statusBar().showMessage("Nothing to play for this task.", 5000)
            return
        try:
            samples, rate = jobs.read_take(row.file)
            play(samples, rate)
            self._playing = True
            self.statusBar().showMessage(f"Playing {row.file.name}… (P to stop)", 5000)
        except SandError as exc:
            MessageBox.error(self, exc)
        except Exception as exc:  # noqa: BLE001 - an unreadable file, an output device error
            MessageBox.show(self, f"{row.file.name} cannot be played: {exc}.")

    # -- analysis ---------------------------------------------------------------------------------
    def recordings(self) -> dict[str, Path]:
        """Task id -> the file each task uses now (rejected ones too: the result names why)."""
        return {t: r.file for t, r in self.rows.items() if r.file is not None and r.status != "recording"}

    def analyse(self) -> None:
        if self.classifier is None:
            self.statusBar().showMessage(self.model_status.text(), 8000)
            return
        if self._analysis is not None:
            return
        recordings = self.recordings()
        if not recordings:
            MessageBox.show(self, "There is nothing to analyse yet: record or load the tasks first.", warning=False)
            return
        self.result_panel.set_progress(0, len(recordings), next(iter(recordings)))
        self._analysis = workers.start(
            jobs.run_analysis, recordings, self.classifier,
            returned=self._analysis_done, errored=self._analysis_failed,
            progress=lambda args: self.result_panel.set_progress(*args),
        )
        self._update_actions()

    def _analysis_done(self, result) -> None:
        self._analysis = None
        self.result = result
        self.result_panel.show_result(result, class_numbers=list(self.classifier.card.class_numbers))
        for t in result.tasks:  # the analysis may have met a problem the check on load did not
            row = self.rows.get(t.task)
            if t.error and row is not None and row.status != "rejected" and str(row.file) == t.file:
                self.rows[t.task] = RowState("rejected", row.file, row.seconds, error=t.error, spec=row.spec)
                self.table.set_state(t.task, self.rows[t.task])
        self._autosave_result(result)
        self._update_actions()
        self.resultShown.emit(result)

    def _analysis_failed(self, exc) -> None:
        self._analysis = None
        self.result_panel.progress.setVisible(False)
        self._update_actions()
        MessageBox.error(self, exc)

    def _autosave_result(self, result) -> None:
        """Keep the last result beside the recordings (nothing lost if the window is closed)."""
        if self.session is None:
            return
        try:
            from ..report import write_json

            write_json(Path(self.session.folder) / "last_result.json", result, session=self.session)
        except Exception as exc:  # noqa: BLE001 - never lose the result on screen over this
            log.warning("could not save the result in the session folder: %s", exc)

    # -- export -----------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        if self.result is None:
            self.statusBar().showMessage("Analyse first; then the report can be exported.", 5000)
            return
        folder = Path(self.session.folder) if self.session else Path.home()
        pid = self.session.patient_id if self.session else "patient"
        base = ExportDialog.ask(self, folder / f"{pid}_report.pdf")
        if base is not None:
            self.export(base)

    def export(self, base: Path) -> None:
        self.statusBar().showMessage("Writing the report…")
        workers.start(
            jobs.export_report, base, self.result, session=self.session,
            spec=self.classifier.spec if self.classifier else None, bundle_path=self.bundle_path,
            returned=self._exported, errored=lambda e: MessageBox.error(self, e),
        )

    def _exported(self, paths: list) -> None:
        self.statusBar().showMessage("Report written: " + ", ".join(Path(p).name for p in paths), 15000)
        if self.session is not None:
            self.session.finished = True
            self._save_session()
        self.exported.emit(list(paths))

    # -- state ------------------------------------------------------------------------------------
    def _update_actions(self) -> None:
        rec = self.recording.recording
        analysing = self._analysis is not None
        ready = self.classifier is not None
        has_files = any(r.file is not None for r in self.rows.values())
        self.act_record.setEnabled(self.audio_ok or rec)
        self.record_button.setEnabled(self.audio_ok or rec)
        self.record_button.setToolTip(self.act_record.toolTip() if self.audio_ok else f"Recording is off: {self.audio_reason}")
        can_analyse = ready and not analysing and not rec and has_files
        self.act_analyse.setEnabled(ready and not analysing and not rec)
        self.analyse_button.setEnabled(can_analyse)
        if not ready:
            tip = "Loading model…" if self.model_loading else NO_MODEL
        elif not has_files:
            tip = "Record or load recordings first."
        else:
            tip = self.act_analyse.toolTip()
        self.analyse_button.setToolTip(tip)
        current = self.rows[self.table.current_task()] if hasattr(self, "table") else RowState()
        self.act_play.setEnabled(self.audio_ok and current.file is not None and not rec)
        self.play_button.setEnabled(self.act_play.isEnabled())
        if not self.audio_ok:
            self.play_button.setToolTip(f"Playback is off: {self.audio_reason}")
        self.act_export.setEnabled(self.result is not None)
        self.export_button.setEnabled(self.result is not None)
        for act in (self.act_load, self.act_folder, self.act_sand, self.act_demo, self.act_new, self.act_settings):
            act.setEnabled(not rec)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.recording.recording:
            self.recording.stop()  # keep the take
        if self._playing:
            from ..recorder import stop_playback

            stop_playback()
        workers.cancel_all()
        workers.wait_all(60000)
        self._save_session()
        super().closeEvent(event)
