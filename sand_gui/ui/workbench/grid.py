"""The patients × tasks grid: one row per patient, one column per task, and its filters.

A ``QAbstractTableModel`` over the rows of a ``sand_gui.dataset_index.DatasetIndex`` (never a
widget per cell, so 300 × 8 cells cost nothing): ID, age, sex, split, class, then one column
per task saying present / missing / rejected / unreadable, with the reason as the tooltip.
The class column is hidden until "Show classes" is ticked (as in the clinician's view, so a
researcher looks at a recording before knowing its class), and so is the class filter.
Filtering is the index's own ``filter`` (one source of truth); this file only shows it.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ...classes import CLASS_NUMBERS
from ...errors import one_line

FIXED = ("ID", "Age", "Sex", "Split", "Class")
CLASS_COLUMN = FIXED.index("Class")
ALL = "All"
# what a cell shows, and its background, per status
MARKS = {"present": "✓", "missing": "—", "rejected": "✗ rejected", "unreadable": "✗ unreadable"}
COLOURS = {"present": "#e3f4e3", "missing": "#eeeeee", "rejected": "#f8d7d4", "unreadable": "#f8d7d4"}


def status_of(cell) -> str:
    """A cell's status as a plain string (the index may use an enum or a string)."""
    status = getattr(cell, "status", "missing")
    return str(getattr(status, "value", status))


def cell_text(cell) -> str:
    status = status_of(cell)
    mark = MARKS.get(status, status)
    seconds = getattr(cell, "seconds", None)
    return f"{mark} {seconds:.1f}" if status == "present" and seconds is not None else mark


def short_name(task: str) -> str:
    """A narrow column header: ``phonationA`` -> ``A``, ``rhythmPA`` -> ``PA`` (the full id is the tooltip)."""
    for prefix in ("phonation", "rhythm"):
        if task.startswith(prefix) and len(task) > len(prefix):
            return task[len(prefix) :]
    return task


def cell_tip(cell, task: str) -> str:
    status = status_of(cell)
    reason = getattr(cell, "reason", None)
    path = getattr(cell, "path", None)
    where = one_line(path) if path is not None else f"no {task} recording"
    return f"{task}: {status}" + (f" — {one_line(reason)}" if reason else "") + f"\n{where}"


class GridModel(QAbstractTableModel):
    """Rows of a dataset index as a table: the fixed columns, then one column per task."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []
        self.tasks: list[str] = []
        self.show_classes = False

    def set_rows(self, rows: list, tasks: list[str]) -> None:
        self.beginResetModel()
        self.rows, self.tasks = list(rows), list(tasks)
        self.endResetModel()

    def set_show_classes(self, on: bool) -> None:
        self.show_classes = bool(on)
        if self.rows:
            top, bottom = self.index(0, CLASS_COLUMN), self.index(len(self.rows) - 1, CLASS_COLUMN)
            self.dataChanged.emit(top, bottom)

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED) + len(self.tasks)

    def task_of(self, column: int) -> str | None:
        """The task shown in ``column``, or None for the fixed columns."""
        i = column - len(FIXED)
        return self.tasks[i] if 0 <= i < len(self.tasks) else None

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal:
            return None
        task = self.task_of(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return FIXED[section] if task is None else short_name(task)
        if role == Qt.ItemDataRole.ToolTipRole and task is not None:
            return f"{task}: ✓ present (length in seconds), — missing, ✗ rejected or unreadable (reason as tooltip)"
        return None

    def _fixed(self, row, column: int) -> str:
        if column == 0:
            return str(row.patient_id)
        if column == 1:
            return "" if row.age is None else str(row.age)
        if column == 2:
            return row.sex or ""
        if column == 3:
            return row.split or ""
        if not self.show_classes:
            return "hidden"
        return "" if row.label is None else str(row.label)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, task = self.rows[index.row()], self.task_of(index.column())
        if task is None:
            if role == Qt.ItemDataRole.DisplayRole:
                return self._fixed(row, index.column())
            return None
        cell = row.cells.get(task)
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(cell)
        if role == Qt.ItemDataRole.ToolTipRole:
            return cell_tip(cell, task)
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(COLOURS.get(status_of(cell), "#ffffff")))
        if role == Qt.ItemDataRole.ForegroundRole:
            return QBrush(QColor("#202020"))
        return None


class FilterBar(QWidget):
    """Class, task, sex and split choices and a text field; ``changed`` on any edit."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.klass, self.task, self.sex, self.split = QComboBox(), QComboBox(), QComboBox(), QComboBox()
        self.klass.addItems([ALL] + [str(c) for c in CLASS_NUMBERS])
        self.klass.setToolTip("Only patients of this class (tick Show classes first)")
        self.task.setToolTip("Only this task's column, and patients who have it")
        self.sex.setToolTip("Only patients of this sex")
        self.split.setToolTip("Only patients of this split (training or test)")
        self.text = QLineEdit()
        self.text.setPlaceholderText("patient ID…")
        self.text.setClearButtonEnabled(True)
        self.show_classes = QCheckBox("Show classes")
        self.show_classes.setToolTip("Show each patient's true class (hidden by default, as in the clinician's view)")
        for label, box in (("Class", self.klass), ("Task", self.task), ("Sex", self.sex), ("Split", self.split)):
            lay.addWidget(QLabel(label))
            lay.addWidget(box)
            box.currentIndexChanged.connect(self.changed)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.show_classes)
        self.text.textChanged.connect(self.changed)
        self.show_classes.toggled.connect(self._classes_toggled)
        self._classes_toggled(False)
        self.set_choices([], [], [])

    def _classes_toggled(self, on: bool) -> None:
        if not on:
            self.klass.setCurrentIndex(0)
        self.klass.setEnabled(on)
        self.changed.emit()

    @staticmethod
    def _refill(box: QComboBox, values: list[str]) -> None:
        keep = box.currentText()
        box.blockSignals(True)
        box.clear()
        box.addItems([ALL, *values])
        box.setCurrentIndex(max(0, box.findText(keep)))
        box.blockSignals(False)

    def set_choices(self, tasks: list[str], sexes: list[str], splits: list[str]) -> None:
        self._refill(self.task, tasks)
        self._refill(self.sex, sexes)
        self._refill(self.split, splits)

    def values(self) -> dict:
        """The keyword arguments of ``DatasetIndex.filter`` that the choices stand for."""

        def one(box: QComboBox):
            return None if box.currentIndex() <= 0 else [box.currentText()]

        klass = one(self.klass) if self.show_classes.isChecked() else None
        text = self.text.text().strip()
        return {
            "classes": [int(c) for c in klass] if klass else None,
            "tasks": one(self.task),
            "sexes": one(self.sex),
            "splits": one(self.split),
            "text": text or None,
        }


class PatientGrid(QWidget):
    """The filters, the count ("212 of 300 patients") and the grid of the open dataset.

    ``recordingPicked(row, task)`` when a cell is clicked or activated (task None for the fixed
    columns: the window shows the patient's first usable recording); ``compareRequested(row, task)``
    from the context menu's "Add to comparison".
    """

    recordingPicked = Signal(object, object)
    compareRequested = Signal(object, object)
    filtered = Signal(int, int)  # shown, total

    def __init__(self, parent=None):
        super().__init__(parent)
        self.index = None
        self.filters = FilterBar()
        self.count = QLabel("No dataset open")
        self.model = GridModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(22)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setDefaultSectionSize(46)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)
        self.view.clicked.connect(self._picked)
        self.view.activated.connect(self._picked)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.filters)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.count)
        self.filters.changed.connect(self.refilter)
        self.filters.show_classes.toggled.connect(self.model.set_show_classes)
        self._columns()

    def set_index(self, index) -> None:
        """Show ``index`` (a DatasetIndex), all rows, with the filter choices its rows offer."""
        self.index = index
        rows = list(index.rows)
        self.filters.set_choices(
            list(index.tasks),
            sorted({r.sex for r in rows if r.sex}),
            sorted({r.split for r in rows if r.split}),
        )
        self.refilter()
        self._widths(rows)

    def _widths(self, rows: list) -> None:
        """Fixed columns as wide as their longest text, measured once (Qt's resizeColumnToContents
        would ask every row for its data: a quarter second for 300 patients)."""
        fm = self.view.fontMetrics()
        texts = (
            [str(r.patient_id) for r in rows] + ["ID"],
            ["Age", "100"],
            ["Sex"],
            [str(r.split or "") for r in {r.split: r for r in rows}.values()] + ["Split"],
            ["Class", "hidden"],
        )
        for column, values in enumerate(texts):
            self.view.setColumnWidth(column, max(fm.horizontalAdvance(v) for v in values) + 14)

    def refilter(self) -> None:
        if self.index is None:
            return
        values = self.filters.values()
        rows = self.index.filter(**values) if any(v is not None for v in values.values()) else list(self.index.rows)
        self.model.set_rows(rows, list(self.index.tasks))
        self._columns()
        total = len(self.index.rows)
        self.count.setText(f"{len(rows)} of {total} patients")
        self.filtered.emit(len(rows), total)

    def _columns(self) -> None:
        self.view.setColumnHidden(CLASS_COLUMN, not self.filters.show_classes.isChecked())
        only = self.filters.values()["tasks"]
        for i, task in enumerate(self.model.tasks):
            self.view.setColumnHidden(len(FIXED) + i, bool(only) and task not in only)

    def row_of(self, patient_id: str):
        return next((r for r in self.model.rows if r.patient_id == patient_id), None)

    def select_patient(self, patient_id: str, task: str | None = None) -> bool:
        """Make ``patient_id``'s row (and ``task``'s cell) current; False when it is filtered out."""
        for i, r in enumerate(self.model.rows):
            if r.patient_id == patient_id:
                col = len(FIXED) + self.model.tasks.index(task) if task in self.model.tasks else 0
                self.view.setCurrentIndex(self.model.index(i, col))
                self.view.scrollTo(self.model.index(i, col))
                return True
        return False

    def _picked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.recordingPicked.emit(self.model.rows[index.row()], self.model.task_of(index.column()))

    def _menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        task = self.model.task_of(index.column()) if index.isValid() else None
        if task is None:
            return
        row = self.model.rows[index.row()]
        menu = QMenu(self)
        act = QAction(f"Add {row.patient_id} {task} to comparison", menu)
        act.setEnabled(status_of(row.cells.get(task)) == "present")
        act.triggered.connect(lambda: self.compareRequested.emit(row, task))
        menu.addAction(act)
        menu.exec(self.view.viewport().mapToGlobal(pos))
