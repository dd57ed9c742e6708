"""The Praat measures in the window: the selected task's measures beside its vote, a patient
summary table and the settings, one click away.

Shows what ``Workspace`` holds (``measures``, ``measures_error``, ``measuring``, ``fused``) and
nothing else; the text of every value, range and flag comes from ``report_measures``, so the
window says what the report says. A measure is its value and unit, its healthy range and a
flag (▲ above / ▼ below, in red), or "not measurable" with its reason; never NaN.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .. import report_measures as rm
from ..errors import one_line
from ..tasks import TASK_IDS, get_task

RED, GREY = QColor("#b71c1c"), QColor("#777777")
SUMMARY_KEYS = rm.KEY_VOWEL + rm.KEY_DDK
STATE_STYLE = "color:#444"


def _table(rows: int, headers: list[str]) -> QTableWidget:
    t = QTableWidget(rows, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    t.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 8)
    return t


def _item(text: str, *, tip: str = "", colour: QColor | None = None, bold: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setToolTip(tip or text)
    if colour is not None:
        item.setForeground(QBrush(colour))
    if bold:
        font = item.font()
        font.setBold(True)
        item.setFont(font)
    return item


def _label(label: str, unit: str) -> str:
    """ "Jitter (local) (%)"; no unit for counts or when the label already names it."""
    return label if unit == "count" or unit in label else f"{label} ({unit})"


def _value_item(m) -> QTableWidgetItem:
    """One summary cell: value with ▲/▼ (red), or "n/m" (grey) with the reason as tooltip."""
    if m is None:
        return _item("–", tip="not measured on this task")
    if m.value is None:
        return _item("n/m", tip=f"not measurable: {m.reason}", colour=GREY)
    flagged = bool(rm.MARK.get(rm.flag_of(m)))
    tip = f"{m.label}: {rm.value_text(m)}; healthy range {rm.range_text(m.norm, m.unit)}"
    return _item(rm.cell(m), tip=tip + (f" ({rm.flag_word(m)})" if flagged else ""), colour=RED if flagged else None)


class MeasuresPanel(QWidget):
    """The selected task's measures: Measure | Value | Healthy range | Flag."""

    HEADERS = ["Measure", "Value", "Healthy range", "Flag"]

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("Praat measures")
        self.title.setStyleSheet("font-weight:bold;font-size:11pt")
        self.state = QLabel("Analyse to compute the measures.")
        self.state.setWordWrap(True)
        self.state.setStyleSheet(STATE_STYLE)
        self.state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fused = QLabel("")
        self.fused.setWordWrap(True)
        self.fused.setStyleSheet("color:#1b5e20;font-weight:bold")
        self.fused.setVisible(False)
        self.table = _table(0, self.HEADERS)
        self.summary_button = QPushButton("Patient summary…")
        self.summary_button.setToolTip("Every task's key measures and the vowel space area, with their flags")
        self.settings_button = QPushButton("Praat settings…")
        self.settings_button.setToolTip("The Praat commands and settings that produced these measures")
        buttons = QHBoxLayout()
        for b in (self.summary_button, self.settings_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.title.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.addWidget(self.title)
        lay.addLayout(buttons)
        for w in (self.state, self.fused):
            lay.addWidget(w)
        lay.addWidget(self.table, 1)
        h = self.table.horizontalHeader()
        for c, mode in enumerate(("ResizeToContents", "Stretch", "ResizeToContents", "ResizeToContents")):
            h.setSectionResizeMode(c, getattr(QHeaderView.ResizeMode, mode))
        self.task_id: str | None = None
        self.show_measures(None, None, state="Analyse to compute the measures.")

    def show_measures(self, task_id: str | None, task_measures, *, state: str = "", vote: str = "") -> None:
        """Show one task's ``TaskMeasures`` (None: an empty table) and a one-line ``state``."""
        self.task_id = task_id
        name = get_task(task_id).name if task_id else ""
        self.title.setText(f"Praat measures — {name}{f'  ·  {vote}' if vote else ''}" if name else "Praat measures")
        self.state.setText(one_line(state, limit=600))
        self.state.setVisible(bool(state))
        self.table.clearSpans()
        rows = [] if task_measures is None else list(task_measures.measures)
        self.table.setRowCount(len(rows))
        for r, m in enumerate(rows):
            self.table.setItem(r, 0, _item(_label(m.label, m.unit), tip=m.method or m.label))
            if m.value is None:
                self.table.setItem(r, 1, _item(f"{rm.NOT_MEASURABLE}: {m.reason}", colour=GREY))
                self.table.setSpan(r, 1, 1, 3)
                continue
            flagged = bool(rm.MARK.get(rm.flag_of(m)))
            self.table.setItem(r, 1, _item(rm.value_text(m), colour=RED if flagged else None, bold=flagged))
            norm = m.norm
            tip = " · ".join(x for x in (norm.source, norm.population, norm.software, norm.note) if x)
            self.table.setItem(r, 2, _item(rm.range_text(norm, m.unit), tip=tip or norm.note))
            mark = f"{rm.MARK[rm.flag_of(m)]} {rm.flag_word(m)}" if flagged else rm.flag_word(m)
            self.table.setItem(r, 3, _item(mark, colour=RED if flagged else None))

    def show_fused(self, fused) -> None:
        self.fused.setVisible(fused is not None)
        self.fused.setText("" if fused is None else rm.fusion_line(fused))

    def flag_text(self, row: int) -> str:
        item = self.table.item(row, 3)
        return "" if item is None else item.text()


class SummaryDialog(QDialog):
    """Every task: its vote beside its key measures (vowels: F0, jitter, shimmer, HNR, CPPS;
    syllable tasks: DDK rate, period CV), and the vowel space area; ▲/▼ red outside the
    healthy range. ``votes``: task id -> the vote's text."""

    def __init__(self, measures, parent: QWidget | None = None, *, fused=None, votes: dict | None = None):
        super().__init__(parent)
        self.setWindowTitle("Praat measures — patient summary")
        self.resize(980, 420)
        heads = ["Task", "Vote"]
        for key in SUMMARY_KEYS:
            heads.append(_label(*rm.measure_specs()[key]))
        self.table = _table(len(TASK_IDS), heads)
        for r, task_id in enumerate(TASK_IDS):
            t = rm.task_or_none(measures, task_id)
            self.table.setItem(r, 0, _item(get_task(task_id).name))
            self.table.setItem(r, 1, _item((votes or {}).get(task_id, "–")))
            if t is None:
                self.table.setItem(r, 2, _item("missing", colour=GREY))
                self.table.setSpan(r, 2, 1, len(SUMMARY_KEYS))
                continue
            for c, key in enumerate(SUMMARY_KEYS, start=2):
                self.table.setItem(r, c, _value_item(rm.measure_or_none(t, key)))
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        lay = QVBoxLayout(self)
        if fused is not None:
            lay.addWidget(QLabel(rm.fusion_line(fused)))
        lay.addWidget(self.table, 1)
        self.across = QLabel("\n".join(self._across(measures)))
        self.across.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.across)
        note = QLabel(
            "▲/▼ in red: above/below the healthy-adult range (sources in docs/measures.md); n/m: not measurable."
        )
        note.setStyleSheet(STATE_STYLE)
        lay.addWidget(note)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)

    @staticmethod
    def _across(measures) -> list[str]:
        out = []
        for m in measures.across:
            text = rm.value_text(m) if m.value is not None else f"{rm.NOT_MEASURABLE}: {m.reason}"
            out.append(f"{m.label}: {text}")
        return out

    @classmethod
    def ask(cls, parent: QWidget | None, measures, *, fused=None, votes: dict | None = None) -> None:
        cls(measures, parent, fused=fused, votes=votes).exec()


class SettingsDialog(QDialog):
    """The settings and Praat commands that produced the measures, as text to copy."""

    def __init__(self, measures, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Praat settings of these measures")
        self.resize(820, 380)
        soft = measures.software
        lines = [f"Praat {soft.get('praat', '?')} through praat-parselmouth {soft.get('parselmouth', '?')}."]
        self.text = QPlainTextEdit("\n".join(lines + rm.settings_lines(measures.settings)))
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        box.rejected.connect(self.reject)
        lay.addWidget(box)

    @classmethod
    def ask(cls, parent: QWidget | None, measures) -> None:
        cls(measures, parent).exec()
