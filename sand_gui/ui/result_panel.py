"""The result: the patient's class in large type with its meaning, who decided it and the
network's vote (``decision.PatientClass``), or the quality message instead of a class; per
task the vote, its confidence and the class probabilities as bars; the device used. Shows an
``AnalysisResult`` and its decision and nothing else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..classes import get_class
from ..decision import PatientClass, patient_class
from ..tasks import get_task

if TYPE_CHECKING:
    from ..pipeline import AnalysisResult

BAR_STYLE = (
    "QProgressBar{border:1px solid #bbb;border-radius:2px;background:#f4f4f4;text-align:center;font-size:10px}"
    "QProgressBar::chunk{background:%s}"
)


REASON_CHARS = 90  # the decided-by line's reason is cut here on screen (whole in its tooltip and the reports)


def _duration(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


class ResultPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.headline = QLabel("No analysis yet.")
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.meaning = QLabel("Record or load the eight tasks, then press Analyse (Ctrl+Return).")
        self.meaning.setWordWrap(True)
        self.votes = QLabel("")
        self.votes.setWordWrap(True)
        self.fused = QLabel("")  # who decided the class and why, when the bundle has a measures model
        self.fused.setWordWrap(True)
        self.fused.setVisible(False)
        self.device = QLabel("")
        self.device.setWordWrap(True)
        self.device.setStyleSheet("color:#555")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.about = QLabel("")
        self.about.setWordWrap(True)
        self.about.setStyleSheet("color:#444;border-top:1px solid #ccc;padding-top:6px")
        for w in (
            self.headline,
            self.meaning,
            self.votes,
            self.fused,
            self.progress,
            self.table,
            self.device,
            self.about,
        ):
            lay.addWidget(w)
        lay.addStretch(1)
        self.result: AnalysisResult | None = None
        self.table.setVisible(False)
        self._style_headline(None)

    def _style_headline(self, kind: str | None) -> None:
        colour = {"ok": "#1a4f8b", "bad": "#a02020"}.get(kind, "#444")
        size = 22 if kind in ("ok", "bad") else 15
        self.headline.setStyleSheet(f"font-size:{size}pt;font-weight:bold;color:{colour}")

    def clear(self, text: str = "No analysis yet.") -> None:
        self.result = None
        self.headline.setText(text)
        self._style_headline(None)
        self.meaning.setText("Record or load the eight tasks, then press Analyse (Ctrl+Return).")
        self.meaning.setVisible(True)
        self.votes.setText("")
        self.fused.setVisible(False)
        self.device.setText("")
        self.about.setText("")
        self.table.setRowCount(0)
        self.table.setVisible(False)

    def show_decision(self, decision: PatientClass | None, *, measuring: str | None = None) -> None:
        """The headline, its meaning, who decided and the network's vote; called again when the
        fused verdict of the shown result comes in, and as the measures progress (``measuring``:
        ``PatientClass.decided_text``). Nothing shown yet: ignored."""
        if self.result is None or decision is None:
            return
        d = decision
        self.headline.setText(d.heading)
        self._style_headline("ok" if d.number is not None else "wait" if d.waiting else "bad")
        if d.number is not None:
            self.meaning.setText(get_class(d.number).meaning)
        else:
            self.meaning.setText("" if d.waiting else self.result.quality_message)
        self.meaning.setVisible(bool(self.meaning.text()))  # waiting: no meaning, no empty line
        v = self.result.verdict
        votes = d.vote_text() if d.network_class is not None and (d.number is not None or d.waiting) else ""
        if votes and v is not None and not v.tie_broken:
            votes += f"  Rule: each task votes for its most probable class; the most votes win ({v.rule})."
        self.votes.setText(votes)
        shown = d.waiting or d.overrides_vote or bool(d.reason)
        colour = "#555;font-style:italic" if d.waiting else "#1b5e20;font-weight:bold"
        self.fused.setStyleSheet(f"color:{colour}")
        self.fused.setText(d.decided_text(limit=REASON_CHARS, measuring=measuring) if shown else "")
        self.fused.setToolTip(d.decided_text() if shown else "")  # the whole reason, as the reports give it
        self.fused.setVisible(shown)

    def set_progress(self, done: int, total: int, task_id: str) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"Analysing {get_task(task_id).name}… %v/%m" if task_id else "Voting… %v/%m")

    def show_result(
        self, result: AnalysisResult, *, class_numbers: list[int], decision: PatientClass | None = None
    ) -> None:
        """``decision``: the workspace's (``Workspace.decision``); default: the result's own,
        without a fused verdict."""
        self.result = result
        self.progress.setVisible(False)
        self.show_decision(decision or patient_class(result))
        note = f" — {result.device_note}" if result.device_note else ""
        self.device.setText(
            f"Computed on {result.device}{note} in {_duration(result.elapsed_ms)} · model {result.model.get('name', '')}"
        )
        self._fill_table(result, class_numbers)
        self.table.setVisible(True)
        m = result.model
        trained = (m.get("training_data") or "not described").rstrip(". ")
        synthetic = (
            " <b>Synthetic speech: this result says nothing about a real patient.</b>"
            if m.get("synthetic", True)
            else ""
        )
        rule = (
            "The patient's class is decided with the Praat voice measures, by the rule stored in the model "
            "(the line under the class says which part decided); the network's vote stays beside it."
            if m.get("measures_model")
            else "The final class is the majority of the votes."
        )
        self.about.setText(
            f"<b>How to read this.</b> Each task's recording is judged on its own; the bars are the model's "
            f"class probabilities, the darkest is the task's vote. {rule} "
            f"Model trained on: {trained}.{synthetic}<br><i>Research tool, not a diagnosis: interpret only "
            f"together with a clinical assessment.</i>"
        )

    def _fill_table(self, result: AnalysisResult, class_numbers: list[int]) -> None:
        headers = ["Task", "Vote", "Conf."] + [f"P({c})" for c in class_numbers]
        self.table.clear()
        self.table.setColumnCount(len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        rows = list(result.tasks) + [None] * len(result.missing_tasks)
        self.table.setRowCount(len(rows))
        for r, t in enumerate(rows):
            if t is None:
                task_id = result.missing_tasks[r - len(result.tasks)]
                self.table.setItem(r, 0, QTableWidgetItem(get_task(task_id).name))
                item = QTableWidgetItem("missing")
                self.table.setItem(r, 1, item)
                self.table.setSpan(r, 1, 1, len(headers) - 1)
                continue
            self.table.setItem(r, 0, QTableWidgetItem(get_task(t.task).name))
            if not t.ok:
                item = QTableWidgetItem(f"rejected: {t.error}")
                item.setToolTip(t.error or "")
                self.table.setItem(r, 1, item)
                self.table.setSpan(r, 1, 1, len(headers) - 1)
                continue
            self.table.setItem(r, 1, QTableWidgetItem(str(t.predicted_class)))
            self.table.setItem(r, 2, QTableWidgetItem(f"{t.confidence:.0%}"))
            for c, number in enumerate(class_numbers):
                p = t.probabilities.get(number, 0.0)
                bar = QProgressBar()
                bar.setRange(0, 1000)
                bar.setValue(round(1000 * p))
                bar.setFormat(f"{p:.0%}")
                bar.setStyleSheet(BAR_STYLE % ("#1a4f8b" if number == t.predicted_class else "#9bb7d4"))
                bar.setToolTip(f"{t.task}: P(class {number}) = {p:.3f}")
                self.table.setCellWidget(r, 3 + c, bar)
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(self.table.rowCount()))
        self.table.setFixedHeight(min(height + 2, 420))
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for c in range(1, len(headers)):
            h.setSectionResizeMode(
                c, QHeaderView.ResizeMode.Stretch if c >= 3 else QHeaderView.ResizeMode.ResizeToContents
            )
