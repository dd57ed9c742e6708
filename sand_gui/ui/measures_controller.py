"""Wires the measures panel to the workspace: which task it shows, what the state line says,
the progress in the status line, the summary and settings dialogs.

The measures themselves are started by the workspace when an analysis starts
(``Workspace.measure``: in parallel with the network, in a separate process driven from a
worker thread, so the window keeps turning), and dropped when the session or a measured
recording changes. Starting with the analysis, rather than as soon as a take is usable, keeps
the measures and the votes on screen about the same recordings, and leaves the CPU to the
recording and checking while the clinician is still taking the tasks.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from ..errors import one_line
from ..workspace import Change, Workspace
from .measures_panel import MeasuresPanel, SettingsDialog, SummaryDialog
from .messages import user_text


class MeasuresController(QObject):
    def __init__(self, workspace: Workspace, table, status_line, parent: QObject | None = None):
        """``table``: the task list (``taskSelected``, ``current_task``); ``status_line``: where
        the progress goes (``show_message(text, ms)``)."""
        super().__init__(parent)
        self.workspace, self.table, self.status_line = workspace, table, status_line
        self.panel = MeasuresPanel()
        self._was_measuring = False
        self.tabs, self.tab_index, self.result_panel = None, -1, None
        workspace.subscribe(self._changed)
        table.taskSelected.connect(lambda _task: self.refresh())
        self.panel.summary_button.clicked.connect(self.show_summary)
        self.panel.settings_button.clicked.connect(self.show_settings)
        self.refresh()

    def beside(self, analysis) -> QWidget:
        """The measures panel as a tab beside the votes of ``analysis`` (an ``AnalysisPanel``);
        returns ``analysis``. A tab, not a pane below: at 1366x768 the votes need the whole
        column, and the panel's title repeats the selected task's vote."""
        self.tabs, self.result_panel = analysis.tabs, analysis.result_panel
        self.tab_index = self.tabs.addTab(self.panel, "Praat measures")
        analysis.resultShown.connect(lambda _result: self.refresh())  # the waiting line gets its progress at once
        return analysis

    def _changed(self, change: Change, task_id: str | None) -> None:
        if change is Change.MEASURES:
            self._status()
        if change in (Change.MEASURES, Change.ANALYSIS, Change.SESSION) or task_id == self.table.current_task():
            self.refresh()

    def _status(self) -> None:
        ws = self.workspace
        if ws.measuring:
            done, total = self._progress()
            self.status_line.show_message(f"Praat measures: {done}/{total} tasks measured…", 0)
        elif self._was_measuring:
            if ws.measures is not None:
                self.status_line.show_message(f"Praat measures ready ({ws.measures.elapsed_ms / 1000:.1f} s).", 8000)
            elif ws.measures_error is not None:
                self.status_line.show_message(f"No Praat measures: {user_text(ws.measures_error)}", 15000)
        self._was_measuring = ws.measuring

    def _progress(self) -> tuple[int, int]:
        """(tasks measured, tasks to measure) of the running measures; (0, 0) before the first report."""
        done, total = (tuple(self.workspace.measures_progress or ()) + (0, 0))[:2]
        return done, total

    def state_text(self, task_id: str) -> str:
        """The panel's one line: progress, why there are none, or whether they are stale."""
        ws = self.workspace
        if ws.measuring:
            done, total = self._progress()
            return f"Measuring with Praat in a separate process… {done}/{total} tasks"
        if ws.measures_error is not None:
            return user_text(ws.measures_error)
        if ws.measures is None:
            return "Analyse to compute the measures." if ws.analysis is None else "No measures for this analysis."
        measured = ws.measured_recordings.get(task_id)
        if measured is None:
            return "This task had no recording when the measures were computed."
        current = ws.task(task_id).file
        if current is not None and current != measured:
            return f"Measured on {one_line(measured.name)}, not on the current take: analyse again to update."
        return ""

    def vote_text(self, task_id: str) -> str:
        a = self.workspace.analysis
        if a is None or self.workspace.measured_recordings != a.recordings:
            return ""
        for t in a.result.tasks:
            if t.task == task_id:
                return f"vote {t.predicted_class} ({t.confidence:.0%})" if t.ok else "rejected by the analysis"
        return ""

    def refresh(self) -> None:
        ws = self.workspace
        task_id = self.table.current_task()
        measures = None if ws.measuring else ws.measures
        task_measures = None
        if measures is not None:
            try:
                task_measures = measures.task(task_id)
            except KeyError:
                pass
        self.panel.show_measures(task_id, task_measures, state=self.state_text(task_id), vote=self.vote_text(task_id))
        self.panel.show_fused(ws.fused)
        if self.result_panel is not None and ws.analysis is not None and self.result_panel.result is ws.analysis.result:
            done, total = self._progress()
            self.result_panel.show_decision(ws.decision(), measuring=f"{done} of {total} tasks" if ws.measuring else "")
        if self.tabs is not None:
            n = sum(len(t.flagged) for t in measures.tasks) if measures is not None else 0
            self.tabs.setTabText(self.tab_index, f"Praat measures ({n} flagged)" if n else "Praat measures")
        for b in (self.panel.summary_button, self.panel.settings_button):
            b.setEnabled(measures is not None)

    def show_summary(self) -> None:
        if self.workspace.measures is not None:
            votes = {t: self.vote_text(t).removeprefix("vote ") for t in self.workspace.measured_recordings}
            SummaryDialog.ask(self.panel, self.workspace.measures, fused=self.workspace.fused, votes=votes)

    def show_settings(self) -> None:
        if self.workspace.measures is not None:
            SettingsDialog.ask(self.panel, self.workspace.measures)
