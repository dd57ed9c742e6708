"""Small dialogs, each behind a ``@classmethod ask`` so tests can replace them."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..tasks import TASKS

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3);;All files (*)"


class TaskChoiceDialog(QDialog):
    """Which task is this file? (its name does not say)"""

    def __init__(self, path: Path, *, default: str | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Which task?")
        form = QFormLayout(self)
        form.addRow(QLabel(f"The name of “{path.name}” does not say which task it records."))
        self.combo = QComboBox()
        for t in TASKS:
            self.combo.addItem(f"{t.name} ({t.id})", t.id)
        if default:
            self.combo.setCurrentIndex(max(0, self.combo.findData(default)))
        form.addRow("Task:", self.combo)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, path: Path, *, default: str | None = None) -> str | None:
        dlg = cls(path, default=default, parent=parent)
        return dlg.combo.currentData() if dlg.exec() == QDialog.DialogCode.Accepted else None


class OpenFilesDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, start: Path) -> list[Path]:
        files, _ = QFileDialog.getOpenFileNames(parent, "Load recordings", str(start), AUDIO_FILTER)
        return [Path(f) for f in files]


class OpenFolderDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, start: Path, *, title: str = "Open a patient folder") -> Path | None:
        d = QFileDialog.getExistingDirectory(parent, title, str(start))
        return Path(d) if d else None


class PatientChoiceDialog(QDialog):
    """Which patient: a SAND-layout dataset, or a folder holding several patients' recordings
    (one patient per analysis)."""

    def __init__(self, ids: list[str], descriptions: dict[str, str] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Choose a patient")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"Recordings of {len(ids)} patients are here; one patient is analysed at a time:"))
        self.list = QListWidget()
        for pid in ids:
            item = QListWidgetItem(f"{pid}  {(descriptions or {}).get(pid, '')}".strip())
            item.setData(Qt.ItemDataRole.UserRole, pid)
            self.list.addItem(item)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(self.accept)
        lay.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, ids: list[str], *, descriptions: dict[str, str] | None = None) -> str | None:
        dlg = cls(ids, descriptions, parent)
        if dlg.exec() != QDialog.DialogCode.Accepted or dlg.list.currentItem() is None:
            return None
        return dlg.list.currentItem().data(Qt.ItemDataRole.UserRole)


class ExportDialog:
    """Where to write the report: one base name for the .pdf, .json and .csv."""

    @classmethod
    def ask(cls, parent: QWidget | None, suggestion: Path) -> Path | None:
        f, _ = QFileDialog.getSaveFileName(
            parent, "Export report (PDF, JSON and CSV)", str(suggestion), "PDF report (*.pdf)"
        )
        return Path(f).with_suffix("") if f else None
