"""Analyse, the result, export: the right-hand side of the window.

The analysis and the export run in workers through the workspace (``Workspace.analyse``,
``Workspace.export``); this panel starts them, shows the progress and the result
(``ResultPanel``, the "Votes" tab; the Praat measures add a tab beside it) and names the
files written. A report always describes the model that
made the result and draws its spectrograms with that result's FeatureSpec, even after another
model was loaded in Settings (the workspace keeps both with the result); the status bar says
so when the two differ.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QPushButton, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from ..errors import one_line
from ..workspace import Workspace
from .dialogs import ExportDialog
from .messages import MessageBox
from .result_panel import ResultPanel


class AnalysisPanel(QWidget):
    resultShown = Signal(object)  # AnalysisResult, once it is on screen
    exported = Signal(list)  # the written report files
    status = Signal(str, int)  # a status-bar message and how long to show it (ms)
    changed = Signal()  # an analysis or export started or ended

    def __init__(self, workspace: Workspace, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.analyse_button = QPushButton("Analyse  (Ctrl+Return)")
        self.analyse_button.setStyleSheet("font-size:12pt;padding:6px")
        self.result_panel = ResultPanel()
        self.tabs = QTabWidget()  # the votes; other views of the result (the measures) add their tab
        votes = QScrollArea()  # a long reason or a small screen scrolls instead of overlapping the table
        votes.setWidgetResizable(True)
        votes.setFrameShape(QFrame.Shape.NoFrame)
        votes.setWidget(self.result_panel)
        self.tabs.addTab(votes, "Votes")
        self.export_button = QPushButton("Export report (PDF, JSON, CSV)…")
        self.export_button.setToolTip("Export the report as PDF, JSON and CSV (Ctrl+E)")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for button in (self.analyse_button, self.export_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        lay.addWidget(self.analyse_button)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.export_button)
        self.analyse_button.clicked.connect(self.analyse)
        self.export_button.clicked.connect(self.export_dialog)
        self.exporting = False

    # -- analysis ------------------------------------------------------------------------------------
    def analyse(self) -> None:
        ws = self.workspace
        if ws.classifier is None or ws.analysing:
            return
        recordings = ws.recordings()
        if not recordings:
            MessageBox.show(self, "There is nothing to analyse yet: record or load the tasks first.", warning=False)
            return
        self.result_panel.set_progress(0, len(recordings), next(iter(recordings)))
        ws.analyse(progress=lambda args: self.result_panel.set_progress(*args), done=self._analysed)
        self.changed.emit()

    def _analysed(self, analysis, exc) -> None:
        self.result_panel.progress.setVisible(False)
        self.changed.emit()
        if exc is not None:
            MessageBox.error(self, exc)
            return
        result = analysis.result
        self.result_panel.show_result(
            result,
            class_numbers=list(self.workspace.classifier.card.class_numbers),
            decision=self.workspace.decision(),
        )
        self.resultShown.emit(result)

    def clear(self) -> None:
        self.result_panel.clear()

    # -- export --------------------------------------------------------------------------------------
    def export_dialog(self) -> None:
        ws = self.workspace
        if ws.analysis is None:
            self.status.emit("Analyse first; then the report can be exported.", 5000)
            return
        folder = Path(ws.session.folder) if ws.session else Path.home()
        pid = ws.session.patient_id if ws.session else "patient"
        base = ExportDialog.ask(self, folder / f"{pid}_report.pdf")
        if base is not None:
            self.export(base)

    def export(self, base: Path) -> None:
        ws = self.workspace
        made_by = ws.analysis.model
        note = (
            ""
            if ws.analysis_is_current
            else (
                f" (the report describes {one_line(made_by.name)}, {one_line(made_by.path.name)}, the model that made this result)"
            )
        )
        self.status.emit(f"Writing the report…{note}", 0)
        self.exporting = True
        self.changed.emit()
        ws.export(base, done=self._exported)

    def _exported(self, paths, exc) -> None:
        self.exporting = False
        self.changed.emit()
        if exc is not None:
            self.status.emit("", 1)
            MessageBox.error(self, exc)
            return
        self.status.emit("Report written: " + ", ".join(one_line(Path(p).name) for p in paths), 15000)
        self.exported.emit(list(paths))

    def update_actions(self, *, recording: bool, model_loading: bool) -> None:
        ws = self.workspace
        ready = ws.classifier is not None
        has_files = bool(ws.recordings())
        self.analyse_button.setEnabled(ready and not ws.analysing and not recording and has_files)
        if not ready:
            from .model_controller import NO_MODEL

            tip = "Loading model…" if model_loading else NO_MODEL
        elif not has_files:
            tip = "Record or load recordings first."
        else:
            tip = "Analyse the recordings (Ctrl+Return)"
        self.analyse_button.setToolTip(tip)
        self.export_button.setEnabled(ws.analysis is not None and not self.exporting)
