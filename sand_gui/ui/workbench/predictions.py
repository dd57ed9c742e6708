"""The batch run's predictions table: one row per patient of a ``BatchResult``.

True class, the network's vote and its confidence, with a fused run also the measures'
and the fusion's class (``fused_columns``), then each task's vote; a refused recording shows
✗ with its reason as the tooltip. A Qt table model only: it shows what the result holds.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt

from .fused_columns import FUSED_HEAD, fused_cells
from .grid import short_name

HEAD = ("Patient", "True", "Predicted", "Confidence")


def field(entry, name: str, default=None):
    """``entry.name`` or ``entry[name]``: result rows may be dataclasses or dicts."""
    if isinstance(entry, dict):
        return entry.get(name, default)
    return getattr(entry, name, default)


def score(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


class PredictionsModel(QAbstractTableModel):
    """One row per patient of a BatchResult: true, predicted, confidence, then each task's vote."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.ids: list[str] = []
        self.rows: list[list[str]] = []
        self.tips: list[list[str]] = []
        self.tasks: list[str] = []
        self.head: tuple[str, ...] = HEAD

    def set_result(self, result, tasks: list[str]) -> None:
        self.beginResetModel()
        self.tasks = list(tasks)
        votes: dict[str, dict[str, tuple[str, str]]] = {}
        for rec in result.recordings:
            err = field(rec, "error")
            shown = ("✗", str(err)) if err else (str(field(rec, "predicted", "")), "")
            votes.setdefault(str(field(rec, "patient")), {})[str(field(rec, "task"))] = shown
        patients = result.patients
        items = patients.items() if isinstance(patients, dict) else ((field(p, "patient_id"), p) for p in patients)
        self.ids, self.rows, self.tips = [], [], []
        items = list(items)
        fused = any(field(p, "fused") is not None for _, p in items)
        self.head = HEAD + FUSED_HEAD if fused else HEAD
        for pid, p in items:
            true, pred, conf = field(p, "true"), field(p, "predicted"), field(p, "confidence")
            mine = votes.get(str(pid), {})
            extra, extra_tips = fused_cells(p) if fused else ([], [])
            self.ids.append(str(pid))
            self.rows.append(
                [
                    str(pid),
                    "" if true is None else str(true),
                    "—" if pred is None else str(pred),
                    "" if conf is None else f"{conf:.2f}",
                    *extra,
                    *(mine.get(t, ("", ""))[0] for t in self.tasks),
                ]
            )
            self.tips.append(["", "", "", "", *extra_tips, *(mine.get(t, ("", "missing"))[1] for t in self.tasks)])
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.head) + len(self.tasks)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        head = self.head
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return head[section] if section < len(head) else short_name(self.tasks[section - len(head)])
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole and section >= len(head):
            return f"{self.tasks[section - len(head)]}: the class this recording votes for (✗: refused, see tooltip)"
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.rows[index.row()][index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tips[index.row()][index.column()] or None
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() > 0:
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def task_of(self, column: int) -> str | None:
        i = column - len(self.head)
        return self.tasks[i] if 0 <= i < len(self.tasks) else None
