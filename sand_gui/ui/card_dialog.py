"""The model card, one click away: what the model is, what it was trained on, how it scored.

The synthetic-training warning sits above everything, outside the tabs, so it is never
scrolled or tabbed away. Metrics are tables: a summary (one row per evaluation set and
level), per-class precision/recall/F1 and a confusion matrix for the evaluation picked in a
list, and any other numbers the card holds as name/value rows. The rows themselves come from
``sand_gui.card_view`` (no Qt): this module only shows them.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..card_view import (
    SYNTHETIC_TEXT,
    as_number,
    cell_text,
    deciding_part,
    flat_items,
    fraction,
    metric_evaluations,
    model_rows,
    percent,
)

if TYPE_CHECKING:
    from ..bundle import ModelCard

NUMERIC = re.compile(r"^[-+]?[\d.,]+( %)?$|^—$")  # cells aligned right


def _table(
    headers: list[str],
    rows: list[list[str]],
    *,
    row_headers: list[str] | None = None,
    stretch: int | None = 0,
) -> QTableWidget:
    """A read-only table; numbers right-aligned; columns sized to their contents, column
    ``stretch`` taking the spare width."""
    t = QTableWidget(len(rows), len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setWordWrap(True)
    if row_headers is None:
        t.verticalHeader().setVisible(False)
    else:
        t.setVerticalHeaderLabels(row_headers)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            numeric = bool(NUMERIC.match(text))
            item.setTextAlignment(
                (Qt.AlignmentFlag.AlignRight if numeric else Qt.AlignmentFlag.AlignLeft) | Qt.AlignmentFlag.AlignVCenter
            )
            t.setItem(r, c, item)
    h = t.horizontalHeader()
    h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is not None and headers:
        h.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    t.resizeRowsToContents()
    return t


def _pairs_table(rows: list[tuple[str, str]]) -> QTableWidget:
    t = _table(["", ""], [[k, v] for k, v in rows], stretch=1)
    t.horizontalHeader().setVisible(False)
    for r in range(t.rowCount()):
        f = t.item(r, 0).font()
        f.setBold(True)
        t.item(r, 0).setFont(f)
        t.item(r, 1).setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    t.resizeRowsToContents()
    return t


class CardDialog(QDialog):
    """The card in four tabs (Performance, Model, Training data, Preprocessing) under the
    synthetic-data warning; ``summary``, ``per_class`` and ``confusion`` are the metric tables."""

    def __init__(self, card: ModelCard, parent: QWidget | None = None):
        super().__init__(parent)
        self.card = card
        self.setWindowTitle(f"Model card — {card.name}")
        self.resize(760, 600)
        lay = QVBoxLayout(self)
        title = QLabel(f"<h2>{html.escape(card.name)}</h2>")
        lay.addWidget(title)
        self.warning = QLabel(SYNTHETIC_TEXT)
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(
            "background:#fff3b0;border:1px solid #e0c040;padding:6px;font-weight:bold;font-size:11pt"
        )
        self.warning.setVisible(card.synthetic)
        lay.addWidget(self.warning)
        self.tabs = QTabWidget()
        lay.addWidget(self.tabs, 1)
        self.evaluations = metric_evaluations(card.metrics, decides=deciding_part(card))
        self.summary = self.per_class = self.confusion = self.confusion_box = None
        self.tabs.addTab(self._performance_tab(), "Performance")
        self.tabs.addTab(_pairs_table(model_rows(card)), "Model")
        self.tabs.addTab(
            _pairs_table(flat_items(card.training_data) or [("Training data", "not described")]),
            "Training data",
        )
        self.tabs.addTab(_pairs_table(flat_items(card.spec.to_dict())), "Preprocessing")
        if card.notes:
            notes = QLabel(card.notes)
            notes.setWordWrap(True)
            notes.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            notes.setMargin(8)
            self.tabs.addTab(notes, "Notes")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def _performance_tab(self) -> QWidget:
        page = QWidget()
        lay = QVBoxLayout(page)
        evals = self.evaluations
        if not evals and not self.card.metrics:
            lay.addWidget(QLabel("No metrics recorded in this card."))
            lay.addStretch(1)
            return page
        if evals:
            self.summary = _table(
                ["Evaluation", "Data", "n", "Accuracy", "Macro-F1"],
                [
                    [
                        v.title,
                        v.data or "—",
                        "—" if v.n is None else str(v.n),
                        percent(v.accuracy),
                        fraction(v.macro_f1),
                    ]
                    for v in evals
                ],
            )
            self.summary.setFixedHeight(self._fit_height(self.summary))
            lay.addWidget(self.summary)
            pick = QHBoxLayout()
            pick.addWidget(QLabel("Details of:"))
            self.choice = QComboBox()
            for v in evals:
                self.choice.addItem(v.title, v.key)
            pick.addWidget(self.choice, 1)
            lay.addLayout(pick)
            detail = QHBoxLayout()
            self._detail = detail
            lay.addLayout(detail, 1)
            self.choice.currentIndexChanged.connect(self._show_evaluation)
            self._show_evaluation(0)
        other = flat_items(self.card.metrics, skip_evaluations=True)
        if other:
            lay.addWidget(QLabel("Other figures"))
            self.other = _pairs_table(other)
            self.other.setFixedHeight(self._fit_height(self.other))
            lay.addWidget(self.other)
        return page

    @staticmethod
    def _fit_height(t: QTableWidget) -> int:
        head = t.horizontalHeader().sizeHint().height() if not t.horizontalHeader().isHidden() else 0
        return head + t.verticalHeader().length() + 2 * t.frameWidth() + 2

    def _label(self, c: str) -> str:
        try:
            return f"{c} — {self.card.label(int(c))}"
        except (ValueError, IndexError):
            return str(c)

    def _show_evaluation(self, index: int) -> None:
        """Per-class scores and the confusion matrix of the evaluation picked in the list."""
        v = self.evaluations[index]
        for old in (self.per_class, self.confusion_box):
            if old is not None:
                self._detail.removeWidget(old)
                old.deleteLater()
        self.confusion_box = None
        classes = list(v.per_class)
        self.per_class = _table(
            ["Class", "Precision", "Recall", "F1", "n"],
            [
                [
                    self._label(c),
                    percent(as_number(s.get("precision"))),
                    percent(as_number(s.get("recall"))),
                    fraction(s.get("f1")),
                    cell_text(s.get("support")),
                ]
                for c, s in v.per_class.items()
            ],
        )
        self._detail.addWidget(self.per_class, 3)
        if v.confusion:
            names = (
                classes
                if len(classes) == len(v.confusion)
                else [str(n) for n in self.card.class_numbers[: len(v.confusion)]]
            )
            self.confusion = _table(
                list(names),
                [[str(x) for x in row] for row in v.confusion],
                row_headers=[f"true {c}" for c in names],
                stretch=None,
            )
            self.confusion.setToolTip(
                "Confusion matrix. Rows: the true class; columns: the class the model gave; "
                "the diagonal (green) is correct."
            )
            for r in range(self.confusion.rowCount()):
                item = self.confusion.item(r, r)
                if item is not None:
                    item.setBackground(QColor("#d8ecd8"))
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.addWidget(QLabel("Confusion: rows the true class,\ncolumns the class the model gave"))
            bl.addWidget(self.confusion, 1)
            self.confusion_box = box
            self._detail.addWidget(box, 2)
        else:
            self.confusion = None

    @classmethod
    def ask(cls, parent: QWidget | None, card: ModelCard) -> None:
        cls(card, parent).exec()
