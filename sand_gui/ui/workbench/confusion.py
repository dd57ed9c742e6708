"""The confusion matrix as a widget: counts in a grid, the patients of a cell one click away.

Rows are the true class, columns the predicted class (as in ``sand_gui.metrics``). Clicking a
cell lists its patients (``BatchResult.cell(true, predicted, part=)``) beside the grid; double-clicking
one of them emits ``patientPicked`` so the window can show that patient's recordings.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


def shade(count: int, top: int) -> QColor:
    """A blue from white (0) to dark (the largest count); the diagonal reads at a glance."""
    f = count / top if top else 0.0
    return QColor(int(255 - 200 * f), int(255 - 160 * f), 255)


class ConfusionView(QWidget):
    """A patient-level confusion matrix; ``cellPicked(true, pred)`` and ``patientPicked(id)``."""

    cellPicked = Signal(int, int)
    patientPicked = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.result = None
        self.part = "network"
        self.classes: list[int] = []
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setToolTip("Rows: true class; columns: predicted class. Click a cell to list its patients.")
        self.table.cellClicked.connect(self.open_cell)
        self.caption = QLabel("Patients (click a cell)")
        self.caption.setWordWrap(True)
        self.patients = QListWidget()
        self.patients.setToolTip("Double-click a patient to show its recordings")
        self.patients.itemDoubleClicked.connect(self._double)
        self.patients.itemActivated.connect(self._double)
        side = QVBoxLayout()
        side.addWidget(self.caption)
        side.addWidget(self.patients, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.addWidget(QLabel("Patient level: rows true class, columns predicted class"))
        left.addWidget(self.table, 1)
        lay.addLayout(left, 3)
        lay.addLayout(side, 1)

    def set_result(self, result, classes: list[int], matrix: list[list[int]], *, part: str = "network") -> None:
        """Show ``matrix`` [classes × classes counts] of ``part``'s classes (``sand_gui.batch.PARTS``);
        ``result.cell(t, p, part=part)`` lists a cell's patients."""
        self.result, self.classes, self.part = result, list(classes), part
        n = len(self.classes)
        self.table.clear()
        self.table.setRowCount(n)
        self.table.setColumnCount(n)
        self.table.setHorizontalHeaderLabels([f"pred {c}" for c in self.classes])
        self.table.setVerticalHeaderLabels([f"true {c}" for c in self.classes])
        top = max((v for row in matrix for v in row), default=0)
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                item = QTableWidgetItem(str(v))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(QBrush(shade(v, top)))
                item.setForeground(QBrush(QColor("white" if top and v > top / 2 else "black")))
                item.setToolTip(f"true {self.classes[i]}, predicted {self.classes[j]}: {v} patient(s)")
                self.table.setItem(i, j, item)
        self.patients.clear()
        self.caption.setText("Patients (click a cell)")

    def count(self, true: int, predicted: int) -> int:
        item = self.table.item(self.classes.index(true), self.classes.index(predicted))
        return int(item.text()) if item is not None else 0

    def open_cell(self, row: int, column: int) -> list[str]:
        """List the patients of a cell (by table row/column); returns their IDs."""
        if self.result is None or not (0 <= row < len(self.classes) and 0 <= column < len(self.classes)):
            return []
        true, pred = self.classes[row], self.classes[column]
        ids = list(self.result.cell(true, pred, part=self.part))
        self.patients.clear()
        for pid in ids:
            item = QListWidgetItem(str(pid))
            item.setData(Qt.ItemDataRole.UserRole, pid)
            self.patients.addItem(item)
        self.caption.setText(f"True {true}, predicted {pred}:\n{len(ids)} patient(s)")
        self.cellPicked.emit(true, pred)
        return ids

    def clear(self) -> None:
        self.result = None
        self.table.clear()
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.patients.clear()

    def _double(self, item: QListWidgetItem) -> None:
        self.patientPicked.emit(str(item.data(Qt.ItemDataRole.UserRole)))
