"""The eight tasks as a table: name, instruction, status, duration, quality flags.

The table only shows the workspace's ``TaskState`` of each task (``set_state``) and forwards
what the user does: files dropped on it (``filesDropped``), Space (``recordRequested``), P
(``playRequested``), and the selected task (``taskSelected``). The quality column reads the
codes of the notes (``quality.Code``), never their English sentences.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from .. import quality
from ..tasks import TASKS
from ..workspace import Source, TaskState, TaskStatus

COLUMNS = ("Task", "Instruction", "Status", "Duration", "Quality")
STATUS_COLOURS = {
    (TaskStatus.READY, Source.RECORDED): "#d8f0d8",
    (TaskStatus.READY, Source.LOADED): "#d8e8f8",
    TaskStatus.REJECTED: "#f8d8d8",
    TaskStatus.CHECKING: "#f4f4d8",
    TaskStatus.RECORDING: "#fde2c8",
}


def flag_of(code) -> str:
    """The short flag of a ``quality.Code`` (``quality.FLAGS``), or "" for no code."""
    if code is None:
        return ""
    try:
        return quality.FLAGS[quality.Code(getattr(code, "value", code))]
    except (KeyError, ValueError):
        return str(getattr(code, "value", code))


def quality_flags(state: TaskState) -> list[str]:
    """Short flags for the table: the codes of the warnings, then the rejection's code."""
    found = [flag_of(getattr(n, "code", None)) for n in state.notes]
    if state.status is TaskStatus.REJECTED:
        found.append(flag_of(state.error_code) or "rejected")
    return list(dict.fromkeys(f for f in found if f))


def status_text(state: TaskState) -> str:
    if state.status is TaskStatus.REJECTED:
        return f"rejected: {state.error}"
    if state.status is TaskStatus.READY:
        take = f" (take {state.take:02d})" if state.source is Source.RECORDED and state.take else ""
        return f"{state.source.value if state.source else 'ready'}{take}"
    return {TaskStatus.EMPTY: "—", TaskStatus.RECORDING: "recording…", TaskStatus.CHECKING: "checking…"}[state.status]


class TaskTable(QTableWidget):
    filesDropped = Signal(list, int)  # paths, row under the drop (-1 when none)
    recordRequested = Signal()
    playRequested = Signal()
    taskSelected = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(len(TASKS), len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setTabKeyNavigation(False)
        self.setWordWrap(False)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setDropIndicatorShown(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(26)
        self.setMinimumHeight(26 * len(TASKS) + 30)
        h = self.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for c in (2, 3, 4):
            h.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(2, 150)
        self.setColumnWidth(3, 125)
        self.setColumnWidth(4, 110)
        self.setToolTip(
            "Drop audio files here (the task is read from the file name).\n"
            "Arrows: move · Space: record/stop · P: play · Ctrl+O: load · Ctrl+Return: analyse"
        )
        for row, task in enumerate(TASKS):
            name = QTableWidgetItem(f"{row + 1}. {task.name}")
            name.setData(Qt.ItemDataRole.UserRole, task.id)
            name.setToolTip(task.id)
            self.setItem(row, 0, name)
            instr = QTableWidgetItem(task.instruction)
            instr.setToolTip(f"{task.instruction}\nAbout {task.recommended_seconds:.0f} s.")
            self.setItem(row, 1, instr)
            for c in (2, 3, 4):
                self.setItem(row, c, QTableWidgetItem(""))
            self.set_state(TaskState(task.id))
        self.currentCellChanged.connect(lambda r, *_: r >= 0 and self.taskSelected.emit(TASKS[r].id))
        self.selectRow(0)

    # -- what the window tells it ------------------------------------------------------------
    def row_of(self, task_id: str) -> int:
        return [t.id for t in TASKS].index(task_id)

    def current_task(self) -> str:
        return TASKS[max(0, self.currentRow())].id

    def select_task(self, task_id: str) -> None:
        self.selectRow(self.row_of(task_id))

    def set_state(self, state: TaskState) -> None:
        row = self.row_of(state.task_id)
        duration = "" if state.seconds is None else f"{state.seconds:.1f} s"
        if state.voiced_seconds is not None:
            duration += f" · {state.voiced_seconds:.1f} voiced"
        flags = quality_flags(state)
        items = (self.item(row, 2), self.item(row, 3), self.item(row, 4))
        items[0].setText(status_text(state))
        notes = [str(n) for n in state.notes]
        items[0].setToolTip(
            "\n".join(filter(None, [str(state.file) if state.file else "", state.error or ""] + notes))
            or "no recording yet"
        )
        items[1].setText(duration)
        items[2].setText(", ".join(flags) if flags else ("ok" if state.usable else ""))
        items[2].setToolTip("\n".join(notes))
        colour = STATUS_COLOURS.get((state.status, state.source)) or STATUS_COLOURS.get(state.status)
        brush = QBrush(QColor(colour)) if colour else QBrush()
        for c in range(len(COLUMNS)):
            self.item(row, c).setBackground(brush)

    def status_text(self, task_id: str) -> str:
        return self.item(self.row_of(task_id), 2).text()

    # -- what the user does ------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # Space/P when no window shortcut took them
        if event.key() == Qt.Key.Key_Space and not event.modifiers():
            self.recordRequested.emit()
            return
        if event.key() == Qt.Key.Key_P and not event.modifiers():
            self.playRequested.emit()
            return
        super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event) -> None:
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls:
            event.ignore()
            return
        event.acceptProposedAction()
        row = self.rowAt(int(event.position().y()))
        self.filesDropped.emit([Path(u.toLocalFile()) for u in urls], row)
