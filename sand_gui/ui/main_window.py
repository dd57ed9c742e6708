"""The main window: it assembles the panels and the menus and routes the user's actions.

Where things live:

* the state (session, the eight tasks, the model, the last analysis): ``sand_gui.workspace``,
  Qt-free; the window subscribes to its changes and shows them;
* sessions, files, folders, datasets: ``session_controller``;
* the model (card at once, network in a worker): ``model_controller``;
* recording and playback: ``recording_panel``; analyse, result, export: ``analysis_panel``;
* what the model sees for the selected task: ``display_controller`` + ``display``;
* heavy imports: ``importer`` (one thread, after the first paint); slow work: ``workers``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QVBoxLayout, QWidget

from ..tasks import TASK_IDS
from ..workspace import Change, TaskStatus, Workspace
from . import measures_controller, workbench, workers
from .analysis_panel import AnalysisPanel
from .display import FeatureView
from .display_controller import DisplayController
from .importer import ALL, CORE, Importer
from .messages import StatusLine
from .model_controller import NO_MODEL, ModelController, ModelPanel
from .recording_panel import RecordingPanel
from .session_controller import SessionController
from .settings import Settings, SettingsDialog
from .task_list import TaskTable

LABELS_TIP = "Show a dataset or demo patient's true class before the analysis (researchers)"


class MainWindow(QMainWindow):
    resultShown = Signal(object)  # AnalysisResult, once it is on screen
    rowChecked = Signal(str)  # task id whose check on load finished (either way)
    exported = Signal(list)  # the written report files
    modelChanged = Signal()  # a model finished loading, or failed to

    def __init__(self, settings: Settings | None = None, *, load_model: bool = True):
        super().__init__()
        self.settings = settings or Settings()
        self.importer = Importer.instance()
        self.importer.stageDone.connect(self._imports_done)
        self.workspace = Workspace(
            data_dir=self.settings.data_dir,
            runner=workers.run_in_worker,
            before_import=lambda: self.importer.wait(CORE),
        )
        self.workspace.subscribe(self._changed)
        self._shown = False
        self.setWindowTitle("SAND — dysarthria severity assessment")
        self.resize(1280, 860)
        self.setAcceptDrops(True)
        self._build_panels()
        self._build_menus()
        note = self.model.choose_startup(load=load_model)
        if note:
            self.status_line.show_message(note, 10000)
        self._select(self.table.current_task())
        QTimer.singleShot(500, self._after_show)  # in case no paint arrives (a hidden window)

    # -- construction ------------------------------------------------------------------------------
    def _build_panels(self) -> None:
        ws = self.workspace
        self.model_panel = ModelPanel()
        self.status_line = StatusLine()  # messages, cut to their room: never under the model status
        self.statusBar().addWidget(self.status_line, 1)
        self.model_status = QLabel(NO_MODEL)
        self.model_status.setStyleSheet("padding-left:8px")
        self.statusBar().addPermanentWidget(self.model_status)
        self.model = ModelController(ws, self.settings, self.model_panel, self.model_status, self)
        self.sessions = SessionController(ws, self.settings, self.model_panel.session_label, self)
        self.table = TaskTable()
        self.strip = RecordingPanel(ws, self.settings)
        self.strip.ensure_session = self.sessions.ensure_session
        self.strip.current_task = self.table.current_task
        self.display = FeatureView()
        self.displayer = DisplayController(ws, self.display, self)
        self.analysis = AnalysisPanel(ws)
        self.measures = measures_controller.MeasuresController(ws, self.table, self.status_line, self)

        upper = QWidget()
        ul = QVBoxLayout(upper)
        ul.setContentsMargins(0, 0, 0, 0)
        ul.addWidget(self.table, 1)
        ul.addWidget(self.strip)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(upper)
        left.addWidget(self.display)
        left.setSizes([330, 470])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.measures.beside(self.analysis))
        split.setSizes([760, 520])
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(8, 4, 8, 4)
        outer.addWidget(self.model_panel)
        outer.addWidget(split, 1)
        self.setCentralWidget(central)

        self.table.filesDropped.connect(self.files_dropped)
        self.table.recordRequested.connect(self.strip.toggle_recording)
        self.table.playRequested.connect(self.strip.toggle_playback)
        self.table.taskSelected.connect(self._select)
        self.strip.load_button.clicked.connect(self.sessions.load_files_dialog)
        for panel in (self.strip, self.analysis):
            panel.status.connect(self.status_line.show_message)
            panel.changed.connect(self._update_actions)
        self.model.changed.connect(self._model_changed)
        self.model.started.connect(self._update_actions)
        self.analysis.resultShown.connect(self.resultShown)
        self.analysis.exported.connect(self.exported)
        self.table.setFocus()

    def _action(self, text: str, slot, shortcut=None, tip: str = "", *, checkable: bool = False) -> QAction:
        act = QAction(text, self)
        act.setCheckable(checkable)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        keys = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip or text.replace('…', '').replace('&', '')}{f' ({keys})' if keys else ''}")
        (act.toggled if checkable else act.triggered).connect(slot)
        self.addAction(act)
        return act

    def _build_menus(self) -> None:
        a, s, st = self._action, self.sessions, self.strip
        self.act_new = a("&New session…", lambda: s.new_session(), QKeySequence.StandardKey.New)
        self.act_load = a(
            "&Load recordings…", s.load_files_dialog, "Ctrl+O", "Load audio files; the task is read from the file name"
        )
        self.act_folder = a("Open patient &folder…", s.open_folder_dialog, "Ctrl+Shift+O")
        self.act_sand = a("Open patient from SAND &dataset…", s.open_sand_dialog)
        self.act_demo = a("Open a &demo patient (synthetic speech)…", s.open_demo)
        self.act_dataset = a("Open dataset in the &workbench…", lambda: workbench.open_workbench(self), "Ctrl+Shift+D")
        self.act_export = a(
            "&Export report…", self.analysis.export_dialog, "Ctrl+E", "Export the report as PDF, JSON and CSV"
        )
        self.act_quit = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_record = a("&Record / stop", st.toggle_recording, "Space", "Record the selected task, or stop")
        self.act_play = a("&Play take", st.toggle_playback, "P", "Play the selected task's recording")
        self.act_analyse = a("&Analyse", self.analyse, "Ctrl+Return", "Analyse the recordings")
        self.act_card = a("Model &card…", self.model.show_card, None, "What the model is and what it was trained on")
        self.act_settings = a("&Settings…", self.open_settings, "Ctrl+,")
        self.act_labels = a("Show &labels", self.show_labels, None, LABELS_TIP, checkable=True)
        self.act_labels.setChecked(self.settings.show_labels)
        opening = (self.act_new, self.act_load, self.act_folder, self.act_sand, self.act_demo, self.act_dataset)
        menus = {
            "&Session": (*opening, None, self.act_export, None, self.act_quit),
            "&Task": (self.act_record, self.act_play, None, self.act_analyse),
            "&Model": (self.act_card, self.act_settings),
            "&View": (self.act_labels,),
        }
        for title, actions in menus.items():
            m = self.menuBar().addMenu(title)
            m.setToolTipsVisible(True)
            for act in actions:
                m.addSeparator() if act is None else m.addAction(act)
        self._update_actions()

    # -- start-up: nothing heavy before the first paint ----------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._shown:
            QTimer.singleShot(0, self._after_show)

    def _after_show(self) -> None:
        if self._shown:
            return
        self._shown = True
        self.importer.start()
        for stage in (CORE, ALL):  # a later window finds the imports already done (MODEL: nothing to do)
            if self.importer.done(stage):
                self._imports_done(stage)

    def _imports_done(self, stage: str) -> None:
        if not self._shown:
            return
        if stage == CORE:
            self.model.start_pending()
            self.strip.devices_known()
        elif stage == ALL:
            self.display.ensure_canvas()
            self.displayer.imports_ready = True
            self._select(self.table.current_task())
        self._update_actions()

    # -- what the workspace says -----------------------------------------------------------------------
    def _changed(self, change: Change, task_id: str | None) -> None:
        ws = self.workspace
        if change is Change.SESSION:
            for t in TASK_IDS:
                self.table.set_state(ws.task(t))
            self.analysis.clear()
            self.sessions.show_session()
        elif change is Change.TASK:
            self.table.set_state(ws.task(task_id))
            if ws.task(task_id).status not in (TaskStatus.CHECKING, TaskStatus.RECORDING):
                self.rowChecked.emit(task_id)
        if change in (Change.SESSION, Change.MODEL) or task_id == self.table.current_task():
            self._select(self.table.current_task())
        self._update_actions()

    def _model_changed(self) -> None:
        self._update_actions()
        self.modelChanged.emit()

    def _select(self, task_id: str) -> None:
        self.strip.show_task(task_id)
        self.displayer.show_task(task_id)
        self._update_actions()

    # -- routed actions -------------------------------------------------------------------------------
    def analyse(self) -> None:
        if self.workspace.classifier is None:
            self.status_line.show_message(self.model_status.text(), 8000)
            return
        self.analysis.analyse()

    def files_dropped(self, paths: list, row: int) -> None:
        task = TASK_IDS[row] if 0 <= row < len(TASK_IDS) else None
        loaded = self.sessions.load_files([Path(p) for p in paths], drop_task=task)
        if loaded:
            self.table.select_task(loaded[0])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.files_dropped(paths, -1)

    def open_folder(self, folder: Path) -> None:
        self.sessions.open_folder(Path(folder))

    def open_sand(self, root: Path) -> None:
        self.sessions.open_sand(Path(root))

    def offer_unfinished(self) -> None:
        self.sessions.offer_unfinished()

    def show_labels(self, on: bool) -> None:
        self.settings.show_labels = on

    def open_settings(self) -> None:
        from .recording_controller import input_device_names

        old = self.settings.values()
        values = SettingsDialog.ask(self, old, input_devices=input_device_names())
        if values is None:
            return
        self.settings.store(values)
        self.workspace.data_dir = self.settings.data_dir
        self.sessions.show_session()
        wanted = values.bundle_path or self.model.default_path()
        if wanted != self.model.bundle_path or values.device != old.device:
            self.model.change_bundle(values.bundle_path)

    # -- state -----------------------------------------------------------------------------------------
    @property
    def classifier(self):
        return self.workspace.classifier

    @property
    def session(self):
        return self.workspace.session

    @property
    def model_loading(self) -> bool:
        return self.model.loading

    def _update_actions(self) -> None:
        rec = self.strip.recording.recording
        ws = self.workspace
        self.act_record.setEnabled(self.strip.audio_ok or rec)
        self.act_play.setEnabled(self.strip.can_play)
        self.act_analyse.setEnabled(ws.classifier is not None and not ws.analysing and not rec)
        self.act_export.setEnabled(ws.analysis is not None)
        for act in (self.act_load, self.act_folder, self.act_sand, self.act_demo, self.act_new, self.act_settings):
            act.setEnabled(not rec)
        self.strip.update_actions()
        self.analysis.update_actions(recording=rec, model_loading=self.model.loading)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.strip.close_audio()
        workers.cancel_all()
        workers.wait_all(60000)
        self.importer.join(120)
        super().closeEvent(event)
