"""New-session and reopen-session dialogs; each with a ``@classmethod ask`` tests replace.

Only a pseudonymous patient ID is asked for (never a name); age and sex are optional.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDate, QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

try:  # the agreed pattern lives in sand_gui.session
    from ..session import PATIENT_ID_PATTERN
except ImportError:  # pragma: no cover - until session.py exists
    PATIENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{1,31}$"


@dataclass
class SessionInfo:
    patient_id: str
    age: int | None = None
    sex: str | None = None
    date: str = ""  # ISO date


class NewSessionDialog(QDialog):
    def __init__(
        self, parent: QWidget | None = None, *, patient_id: str = "", age: int | None = None, sex: str | None = None
    ):
        super().__init__(parent)
        self.setWindowTitle("New session")
        form = QFormLayout(self)
        form.addRow(QLabel("Use the study's pseudonymous ID — never the patient's name."))
        self.patient_id = QLineEdit(patient_id)
        self.patient_id.setPlaceholderText("e.g. ID042")
        self.patient_id.setValidator(
            QRegularExpressionValidator(QRegularExpression(PATIENT_ID_PATTERN.replace("{1,31}$", "{0,31}$")), self)
        )
        self.patient_id.setToolTip("2 to 32 letters, digits, '_' or '-', starting with a letter or digit.")
        form.addRow("Patient ID:", self.patient_id)
        self.age = QSpinBox()
        self.age.setRange(0, 120)
        self.age.setSpecialValueText("not given")
        form.addRow("Age (optional):", self.age)
        self.sex = QComboBox()
        for label, value in (("not given", None), ("female", "F"), ("male", "M")):
            self.sex.addItem(label, value)
        form.addRow("Sex (optional):", self.sex)
        if age:
            self.age.setValue(int(age))
        if sex:
            self.sex.setCurrentIndex(max(0, self.sex.findData(str(sex).upper()[:1])))
        self.date = QDateEdit(QDate.currentDate())
        self.date.setCalendarPopup(True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        form.addRow("Date:", self.date)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.patient_id.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        ok = re.fullmatch(PATIENT_ID_PATTERN, self.patient_id.text()) is not None
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def info(self) -> SessionInfo:
        return SessionInfo(
            self.patient_id.text().strip(),
            self.age.value() or None,
            self.sex.currentData(),
            self.date.date().toString("yyyy-MM-dd"),
        )

    @classmethod
    def ask(
        cls, parent: QWidget | None, *, patient_id: str = "", age: int | None = None, sex: str | None = None
    ) -> SessionInfo | None:
        dlg = cls(parent, patient_id=patient_id, age=age, sex=sex)
        return dlg.info() if dlg.exec() == QDialog.DialogCode.Accepted else None


class ReopenDialog(QDialog):
    """Offers the unfinished sessions found at start-up."""

    def __init__(self, folders: list[Path], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Unfinished session")
        lay = QVBoxLayout(self)
        lay.addWidget(
            QLabel(
                "The application was closed during a session. Its recordings are safe.\n"
                "Reopen one to carry on, or start a new session."
            )
        )
        self.list = QListWidget()
        for f in folders:
            item = QListWidgetItem(f"{f.parent.name} · {f.name}")
            item.setData(256, str(f))
            item.setToolTip(str(f))
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        lay.addWidget(self.list)
        buttons = QDialogButtonBox()
        buttons.addButton("Reopen", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Not now", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, folders: list[Path]) -> Path | None:
        dlg = cls(folders, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.list.currentItem() is None:
            return None
        return Path(dlg.list.currentItem().data(256))


def today() -> str:
    return _dt.date.today().isoformat()
