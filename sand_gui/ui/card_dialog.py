"""The model card, one click away: what the model is, what it was trained on, how it scored.

The synthetic-training warning sits above everything, outside the tabs, so it is never
scrolled or tabbed away. Metrics are tables: a summary (one row per evaluation set and
level), per-class precision/recall/F1 and a confusion matrix for the evaluation picked in a
list, and any other numbers the card holds as name/value rows. ``metric_evaluations`` and
``flat_items`` are plain functions (no Qt) that turn the card's JSON into those rows.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
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

if TYPE_CHECKING:
    from ..bundle import ModelCard

SYNTHETIC_TEXT = (
    "Demonstration model, trained on synthetic speech, not on patient recordings: "
    "its classes mean nothing about a real patient. Not a clinical instrument."
)
LEVEL_NAMES = {
    "patient_level": "per patient (vote of the 8 tasks)",
    "recording_level": "per recording",
    "in_distribution": "families it trained on",
    "out_of_distribution": "only families it never heard",
}
PART_NAMES = {  # a level of a fused bundle's evaluation: "<level>_<part>" (training.lomo.card_entry)
    "praat_measures_alone": "Praat measures classifier alone",
    "fusion": "fusion of network and measures (the bundle's rule)",
    "measures": "Praat measures classifier alone",  # a set's ``fusion`` block (training.evaluate)
    "network": "the network's vote",
}
DECIDING_PART = {"measures": "measures", "weighted": "fusion", "network": "network"}  # card.fusion decision -> part
SHOWN = " (the class shown)"
SET_NAMES = {
    "heldout": "Held-out test",
    "lomo": "Same recipe trained on some synthesis families",
    "validation": "Validation",
    "test": "Test",
    "train": "Training",
}
NUMERIC = re.compile(r"^[-+]?[\d.,]+( %)?$|^—$")  # cells aligned right


@dataclass
class Evaluation:
    """One evaluation set scored at one level (per patient or per recording)."""

    key: str  # e.g. "heldout/patient_level"
    title: str  # e.g. "Held-out test, per patient (vote of the 8 tasks)"
    data: str  # the data set's name, "" when the card does not say
    n: int | None
    accuracy: float | None
    macro_f1: float | None
    per_class: dict[str, dict] = field(default_factory=dict)  # class -> {precision, recall, f1, support}
    confusion: list[list[int]] | None = None  # [true class][predicted class], in the card's class order


def level_title(level_key: str) -> str:
    """A level's name in the table: a known level, a known level with its part ("only families it
    never heard — Praat measures classifier alone"), or the key with spaces."""
    if level_key in LEVEL_NAMES:
        return LEVEL_NAMES[level_key]
    for base, name in LEVEL_NAMES.items():
        part = level_key.removeprefix(f"{base}_")
        if part != level_key:
            return f"{name} — {PART_NAMES.get(part, part.replace('_', ' '))}"
    return level_key.replace("_", " ")


def _number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


SCORES = ("accuracy", "macro_f1", "per_class", "confusion_matrix", "n", "data")  # one evaluation's keys


def _is_level(d) -> bool:
    return isinstance(d, Mapping) and any(k in d for k in SCORES[:4])


def _levels(block: Mapping, decides: str | None) -> list[tuple[str, str, Mapping]]:
    """``(key, title, level)`` of a set: its levels, after the parts of its ``fusion`` block
    (``training.evaluate``: the measures alone, the fusion, per patient; the network's vote
    only when the set has no patient level, which is that vote), the part that decides the
    class shown first, marked."""
    levels = [(k, level_title(k), v) for k, v in block.items() if _is_level(v)]
    if not levels and _is_level(block):
        return [("", "", block)]
    fused = block.get("fusion")
    if isinstance(fused, Mapping):
        same = "network" if _is_level(block.get("patient_level")) else None  # the vote: already the set's patient level
        parts = [
            (f"fusion/{p}", f"per patient — {PART_NAMES.get(p, p)}", v)
            for p, v in fused.items()
            if _is_level(v) and p != same
        ]
        parts.sort(key=lambda x: x[0] != f"fusion/{decides}")
        if parts and parts[0][0] == f"fusion/{decides}":
            parts[0] = (parts[0][0], parts[0][1] + SHOWN, parts[0][2])
        levels = parts + levels
    return levels


def metric_evaluations(metrics: Mapping, *, decides: str | None = None) -> list[Evaluation]:
    """The evaluations in a card's ``metrics``: ``{set: {data?, <level>: {accuracy, macro_f1, n,
    per_class, confusion_matrix}, fusion?: {<part>: level}}}`` (the layout ``sand-train``
    writes); a set may also hold the scores directly, without levels. ``decides``: the part of a
    fused bundle that decides the class shown (``DECIDING_PART``), listed first in its set."""
    out = []
    for set_key, block in metrics.items():
        if not isinstance(block, Mapping):
            continue
        name = SET_NAMES.get(set_key, str(set_key).replace("_", " ").capitalize())
        for level_key, level_name, level in _levels(block, decides):
            title = f"{name}, {level_name}" if level_key else name
            n = _number(level.get("n"))
            confusion = level.get("confusion_matrix")
            ok = isinstance(confusion, list) and all(isinstance(r, list) for r in confusion)
            out.append(
                Evaluation(
                    key=f"{set_key}/{level_key}" if level_key else str(set_key),
                    title=title,
                    data=str(block.get("data", level.get("data", "")) or ""),
                    n=None if n is None else int(n),
                    accuracy=_number(level.get("accuracy")),
                    macro_f1=_number(level.get("macro_f1")),
                    per_class={str(c): v for c, v in (level.get("per_class") or {}).items() if isinstance(v, Mapping)},
                    confusion=confusion if ok else None,
                )
            )
    return out


def deciding_part(card: ModelCard) -> str | None:
    """The part of a fused bundle's evaluations that decides the class shown, or None."""
    fusion = card.fusion if isinstance(card.fusion, Mapping) else None
    return None if fusion is None else DECIDING_PART.get(str(fusion.get("decision")))


def flat_items(d: Mapping, *, skip_evaluations: bool = False, prefix: str = "") -> list[tuple[str, str]]:
    """``d`` as ``(dotted.key, text)`` rows, nested mappings flattened; lists of plain values are
    joined with commas. ``skip_evaluations`` leaves out what ``metric_evaluations`` shows."""
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if skip_evaluations and isinstance(v, Mapping) and (_is_level(v) or any(_is_level(x) for x in v.values())):
            shown = SCORES if _is_level(v) else ("data",)  # what the evaluation tables already show
            rest = {kk: vv for kk, vv in v.items() if not _is_level(vv) and kk not in shown}
            rows += flat_items(rest, skip_evaluations=True, prefix=f"{key}.")
        elif isinstance(v, Mapping):
            rows += flat_items(v, prefix=f"{key}.") if v else [(key, "—")]
        elif isinstance(v, list) and all(not isinstance(x, (list, Mapping)) for x in v):
            rows.append((key, ", ".join(_text(x) for x in v) or "—"))
        else:
            rows.append((key, _text(v)))
    return rows


def _text(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return v
    return json.dumps(v, allow_nan=False)


def _percent(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def _fraction(v) -> str:
    v = _number(v)
    return "—" if v is None else f"{v:.2f}"


def card_summary(card: ModelCard | None) -> str:
    """One line for the window: name, architecture, training data."""
    if card is None:
        return "No model loaded — choose one in Settings."
    data = str(card.training_data.get("description") or "training data not described")
    if len(data) > 90:
        data = data[:88].rsplit(" ", 1)[0] + "…"
    synth = " · SYNTHETIC training data" if card.synthetic else ""
    return f"Model: {card.name} ({card.architecture}) · trained on: {data}{synth}"


def model_rows(card: ModelCard) -> list[tuple[str, str]]:
    """The card's identity as name/value rows."""
    return [
        ("Name", card.name),
        (
            "Architecture",
            f"{card.architecture} {json.dumps(card.arch_kwargs) if card.arch_kwargs else ''}".strip(),
        ),
        (
            "Classes",
            ", ".join(f"{n}: {lab}" for n, lab in zip(card.class_numbers, card.class_labels)),
        ),
        ("Tasks", ", ".join(card.tasks)),
        ("Created", card.created or "—"),
        (
            "Weights SHA-256",
            (card.weights_sha256[:16] + "…") if card.weights_sha256 else "—",
        ),
        ("Software", ", ".join(f"{k} {v}" for k, v in card.software.items()) or "—"),
        ("Trained on synthetic speech", "yes" if card.synthetic else "no"),
    ]


def card_html(card: ModelCard) -> str:
    """The whole card as HTML tables (for a text view or a printout)."""
    e = html.escape

    def table(rows) -> str:
        return (
            "<table cellpadding=3>"
            + "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
            + "</table>"
        )

    parts = [f"<h2>{e(card.name)}</h2>"]
    if card.synthetic:
        parts.append(f"<p style='background:#fff3b0;padding:6px'><b>{e(SYNTHETIC_TEXT)}</b></p>")
    parts.append(table(model_rows(card)))
    parts.append("<h3>Training data</h3>" + table(flat_items(card.training_data)))
    parts.append("<h3>Measured performance</h3>")
    evals = metric_evaluations(card.metrics, decides=deciding_part(card))
    if evals:
        parts.append(
            "<table cellpadding=3><tr><th>Evaluation</th><th>Data</th><th>n</th><th>Accuracy</th><th>Macro-F1</th></tr>"
            + "".join(
                f"<tr><td>{e(v.title)}</td><td>{e(v.data)}</td><td>{'' if v.n is None else v.n}</td>"
                f"<td>{_percent(v.accuracy)}</td><td>{_fraction(v.macro_f1)}</td></tr>"
                for v in evals
            )
            + "</table>"
        )
    other = flat_items(card.metrics, skip_evaluations=True)
    if other:
        parts.append(table(other))
    if not card.metrics:
        parts.append("<p>No metrics recorded in this card.</p>")
    parts.append("<h3>Preprocessing (FeatureSpec)</h3>" + table(flat_items(card.spec.to_dict())))
    if card.notes:
        parts.append(f"<h3>Notes</h3><p>{e(card.notes)}</p>")
    return "".join(parts)


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
                        _percent(v.accuracy),
                        _fraction(v.macro_f1),
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
                    _percent(_number(s.get("precision"))),
                    _percent(_number(s.get("recall"))),
                    _fraction(s.get("f1")),
                    _text(s.get("support")),
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
