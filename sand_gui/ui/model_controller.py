"""The model: which bundle, its card shown at once, its network loaded in a worker.

``read_card`` needs no torch, so the card (and its FeatureSpec) is shown as soon as the
background importer has numpy; the network needs torch and timm, so ``load_classifier``
runs in a worker. A newer request supersedes an older one; a refused bundle leaves the
previous model in use. ``ModelPanel`` shows the model line, the synthetic-data banner and
the card button; the controller fills it and tells the workspace (``set_card``,
``set_model``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..card_view import SYNTHETIC_TEXT, card_summary
from ..errors import BundleError, one_line
from ..workspace import Workspace
from . import workers
from .card_dialog import CardDialog
from .importer import MODEL
from .messages import MessageBox, user_text
from .settings import Settings

NO_MODEL = "No model loaded — choose one in Settings"


def default_bundle_path() -> Path | None:
    """The bundled model, when one is installed."""
    from .. import resources

    return resources.default_bundle_path()


def load_classifier(path: Path, device: str):
    """Verify the bundle and build the network (in a worker, after the background imports)."""
    from ..model import Classifier

    return Classifier.from_file(path, device=device)


class ModelPanel(QWidget):
    """The synthetic-data banner, one line naming the model, and the model card button."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.banner = QWidget()
        self.banner.setStyleSheet("background:#fff3b0;border:1px solid #e0c040")
        bl = QHBoxLayout(self.banner)
        bl.setContentsMargins(8, 3, 8, 3)
        self.banner_text = QLabel(SYNTHETIC_TEXT)
        self.banner_text.setWordWrap(True)
        self.banner_text.setStyleSheet("border:none;font-weight:bold")
        bl.addWidget(self.banner_text, 1)
        self.banner.setVisible(False)
        lay.addWidget(self.banner)
        row = QHBoxLayout()
        self.session_label = QLabel()  # filled by the session controller
        self.session_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.session_label, 1)
        self.model_label = QLabel(NO_MODEL)
        self.model_label.setWordWrap(True)
        row.addWidget(self.model_label, 1)
        self.card_button = QPushButton("Model card…")
        self.card_button.setToolTip("What the model is and what it was trained on")
        row.addWidget(self.card_button)
        lay.addLayout(row)

    def show_card(self, card) -> None:
        self.model_label.setText(card_summary(card))
        self.model_label.setToolTip("" if card is None else f"{card.name}: {card.training_data.get('description', '')}")
        self.banner.setVisible(card is not None and card.synthetic)


class ModelController(QObject):
    """Owns the model-loading worker; reports through ``changed`` and the status label."""

    changed = Signal()  # a model finished loading, or failed to
    started = Signal()  # a model began loading

    def __init__(self, workspace: Workspace, settings: Settings, panel: ModelPanel, status: QLabel, parent: QWidget):
        super().__init__(parent)
        self.workspace, self.settings, self.panel, self.status = workspace, settings, panel, status
        self.card = None
        self.bundle_path: Path | None = None
        self.pending: Path | None = None  # the bundle to read and load once the imports allow
        self._token: object | None = None
        self._worker: workers.Worker | None = None
        self.busy = False
        panel.card_button.clicked.connect(self.show_card)

    @staticmethod
    def default_path() -> Path | None:
        return default_bundle_path()

    @property
    def loading(self) -> bool:
        return self.busy or self.pending is not None

    def _say(self, text: str) -> None:
        self.status.setText(text)
        if self.card is None:
            self.panel.show_card(None)

    # -- start-up ----------------------------------------------------------------------------------
    def choose_startup(self, *, load: bool) -> str:
        """Pick the bundle to start with (read and loaded after the first paint); a note when the
        saved one is gone."""
        self.load_at_start = load
        note = ""
        path = self.settings.bundle_path
        if path is not None and not path.is_file():
            note = f"The model bundle {one_line(path)} is gone; using the bundled model."
            path = None
        path = path or default_bundle_path()
        if path is None:
            self._say(NO_MODEL)
            return note
        self.pending = path
        self._say("Loading model…" if load else f"Model {one_line(path.name)} not loaded")
        self.panel.model_label.setText(f"Model: {one_line(path.name)}")
        return note

    def start_pending(self) -> None:
        """After the core imports: read the chosen card (no torch) and start loading its network."""
        path, self.pending = self.pending, None
        if path is None:
            return
        try:
            from ..bundle import read_card

            self.card = read_card(path)
        except BundleError as exc:
            self._say(f"{NO_MODEL} ({user_text(exc)})")
            self.changed.emit()
            return
        self.bundle_path = path
        self.panel.show_card(self.card)
        self.workspace.set_card(self.card)
        if self.load_at_start:
            self._load(path)

    # -- loading -----------------------------------------------------------------------------------
    def change_bundle(self, path: Path | None) -> bool:
        """Ask for another bundle (None: the bundled one). Refused at once when its card is
        unreadable, or later when its weights are; the previous model stays in use."""
        path = path or default_bundle_path()
        if path is None:
            MessageBox.show(self.parent(), "No bundled model is installed; choose a model bundle file.")
            return False
        try:
            from ..bundle import read_card

            read_card(path)
        except BundleError as exc:
            MessageBox.show(self.parent(), f"Model bundle refused: {user_text(exc)} The previous model is kept.")
            return False
        self._say(f"Loading model {one_line(path.name)}…")
        self._load(path)
        return True

    def _load(self, path: Path) -> None:
        if self._worker is not None:
            self._worker.cancel()
        self.busy = True
        token = object()  # which request this is; slots are connected before the worker starts
        self._token = token
        self._worker = workers.start(
            load_classifier,
            path,
            self.settings.device,
            needs=MODEL,
            returned=lambda clf: self._loaded(token, path, clf),
            errored=lambda exc: self._failed(token, path, exc),
        )
        self.started.emit()

    def _loaded(self, token, path: Path, classifier) -> None:
        if token is not self._token:
            return
        self.busy = False
        self.card, self.bundle_path = classifier.card, Path(path)
        self.settings.bundle_path = None if Path(path) == default_bundle_path() else Path(path)
        self.settings.q.sync()
        self.panel.show_card(self.card)
        dev = classifier.device
        note = f" ({dev.note})" if dev.note else ""
        self._say(f"Model ready: {self.card.name} on {dev.name}{note}")
        self.workspace.set_model(classifier)
        self.changed.emit()

    def _failed(self, token, path: Path, exc) -> None:
        if token is not self._token:
            return
        self.busy = False
        current = self.workspace.classifier
        if current is not None:
            self._say(f"Model ready: {current.card.name} on {current.device.name}")
            what = "Model bundle refused" if isinstance(exc, BundleError) else "The model could not be loaded"
            MessageBox.show(
                self.parent(),
                f"{what}: {user_text(exc)} The previous model ({one_line(current.bundle.path.name)}) is kept.",
            )
        else:
            self.card = None
            self.panel.show_card(None)
            self._say(f"{NO_MODEL} ({user_text(exc)})")
            MessageBox.show(self.parent(), f"The model could not be loaded: {user_text(exc)}")
        self.changed.emit()

    def show_card(self) -> None:
        if self.card is None:
            MessageBox.show(self.parent(), "No model is loaded; choose a model bundle in Settings.", warning=False)
            return
        CardDialog.ask(self.parent(), self.card)
