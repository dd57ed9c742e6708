"""Persistent settings (QSettings) and the settings dialog.

``Settings`` wraps one QSettings object: the application passes the user's, tests pass an
INI file in a temporary folder, so tests never touch the user's settings. The dialog only
collects values (``SettingsDialog.ask``); the main window decides whether a new bundle is
accepted (``read_card`` at once, ``load_bundle`` in the model loader) and keeps the previous
one when it is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from .logs import APPLICATION, ORGANISATION

DEVICE_LABELS = {"auto": "Automatic (GPU when usable)", "cpu": "CPU", "cuda": "CUDA GPU"}


def device_choices() -> tuple[str, ...]:
    """``sand_gui.model.DEVICE_CHOICES``, once the background importer has imported it
    (never imported from the GUI thread while the importer may be importing it)."""
    from .importer import Importer

    Importer.instance().wait()
    from ..model import DEVICE_CHOICES

    return DEVICE_CHOICES


def default_data_dir() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".sand-gui") / "sessions"


@dataclass
class Values:
    data_dir: Path
    input_device: str  # device name; "" = system default
    bundle_path: Path | None  # None = the bundled model
    device: str  # auto / cpu / cuda
    auto_stop: bool


class Settings:
    """Typed access to the persisted settings."""

    def __init__(self, qsettings: QSettings | None = None):
        self.q = qsettings if qsettings is not None else QSettings(ORGANISATION, APPLICATION)

    def _get(self, key: str, default):
        value = self.q.value(key, default)
        return default if value is None else value

    @property
    def data_dir(self) -> Path:
        return Path(str(self._get("data_dir", "") or default_data_dir()))

    @data_dir.setter
    def data_dir(self, value: Path) -> None:
        self.q.setValue("data_dir", str(value))

    @property
    def input_device(self) -> str:
        return str(self._get("input_device", ""))

    @input_device.setter
    def input_device(self, value: str) -> None:
        self.q.setValue("input_device", value or "")

    @property
    def bundle_path(self) -> Path | None:
        text = str(self._get("bundle_path", ""))
        return Path(text) if text else None

    @bundle_path.setter
    def bundle_path(self, value: Path | None) -> None:
        self.q.setValue("bundle_path", "" if value is None else str(value))

    @property
    def device(self) -> str:
        """The stored compute device; an unknown value reads as "auto" (``DEVICE_LABELS`` lists
        the same choices as ``sand_gui.model.DEVICE_CHOICES``; a test keeps them equal)."""
        value = str(self._get("device", "auto"))
        return value if value in DEVICE_LABELS else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.q.setValue("device", value)

    @property
    def auto_stop(self) -> bool:
        value = self._get("auto_stop", False)
        return value in (True, "true", "1", 1)

    @auto_stop.setter
    def auto_stop(self, value: bool) -> None:
        self.q.setValue("auto_stop", bool(value))

    @property
    def show_labels(self) -> bool:
        """Show a dataset or demo patient's true class before the analysis (researchers only:
        seeing it first biases the reader)."""
        return self._get("show_labels", False) in (True, "true", "1", 1)

    @show_labels.setter
    def show_labels(self, value: bool) -> None:
        self.q.setValue("show_labels", bool(value))
        self.q.sync()

    def values(self) -> Values:
        return Values(self.data_dir, self.input_device, self.bundle_path, self.device, self.auto_stop)

    def store(self, v: Values) -> None:
        """Everything but the bundle, which the window stores once it has loaded it."""
        self.data_dir, self.input_device, self.device, self.auto_stop = (
            v.data_dir,
            v.input_device,
            v.device,
            v.auto_stop,
        )
        self.q.sync()


def _with_chooser(edit: QLineEdit, choose) -> QHBoxLayout:
    """A path field with a "Choose…" button beside it."""
    button = QPushButton("Choose…")
    button.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(edit)
    row.addWidget(button)
    return row


class SettingsDialog(QDialog):
    def __init__(self, values: Values, *, input_devices: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        form = QFormLayout(self)

        self.data_dir = QLineEdit(str(values.data_dir))
        form.addRow("Data folder (sessions):", _with_chooser(self.data_dir, self._choose_dir))

        self.input_device = QComboBox()
        self.input_device.addItem("System default", "")
        for name in input_devices:
            self.input_device.addItem(name, name)
        if values.input_device and self.input_device.findData(values.input_device) < 0:
            self.input_device.addItem(f"{values.input_device} (not connected)", values.input_device)
        self.input_device.setCurrentIndex(max(0, self.input_device.findData(values.input_device)))
        if not input_devices:
            self.input_device.setToolTip("No input device found.")
        form.addRow("Microphone:", self.input_device)

        self.bundle = QLineEdit("" if values.bundle_path is None else str(values.bundle_path))
        self.bundle.setPlaceholderText("the bundled model")
        form.addRow("Model bundle:", _with_chooser(self.bundle, self._choose_bundle))

        self.device = QComboBox()
        for d in device_choices():
            self.device.addItem(DEVICE_LABELS.get(d, d), d)
        self.device.setCurrentIndex(max(0, self.device.findData(values.device)))
        form.addRow("Compute device:", self.device)

        self.auto_stop = QCheckBox("Stop recording at the task's recommended length")
        self.auto_stop.setChecked(values.auto_stop)
        form.addRow("", self.auto_stop)
        form.addRow(QLabel("No data ever leaves this computer."))

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _choose_dir(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Data folder", self.data_dir.text())
        if d:
            self.data_dir.setText(d)

    def _choose_bundle(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Model bundle", self.bundle.text(), "Model bundles (*.safetensors)")
        if f:
            self.bundle.setText(f)

    def values(self) -> Values:
        text = self.bundle.text().strip()
        return Values(
            Path(self.data_dir.text().strip() or default_data_dir()),
            self.input_device.currentData() or "",
            Path(text) if text else None,
            self.device.currentData(),
            self.auto_stop.isChecked(),
        )

    @classmethod
    def ask(cls, parent: QWidget | None, values: Values, *, input_devices: list[str]) -> Values | None:
        dlg = cls(values, input_devices=input_devices, parent=parent)
        return dlg.values() if dlg.exec() == QDialog.DialogCode.Accepted else None
