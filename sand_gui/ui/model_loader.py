"""Loading the model in the background while the window is already usable.

``read_card`` needs no torch, so the card (and its FeatureSpec) is shown at once; the
network needs torch and timm, whose import takes seconds, so ``load_classifier`` runs in a
worker. ``ModelLoader`` owns that worker and only adds signals.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from . import workers


def load_classifier(path: Path, device: str):
    """Import torch/timm, verify the bundle and build the network (in a worker thread)."""
    from ..model import Classifier  # torch and timm are imported by Classifier itself

    return Classifier.from_file(path, device=device)


def warm_up_torch() -> None:
    """Import torch and torchaudio ahead of the first feature computation (no model needed)."""
    import torch  # noqa: F401
    import torchaudio  # noqa: F401


class ModelLoader(QObject):
    """Loads one bundle at a time; a newer request supersedes an older one."""

    started = Signal(object)  # path
    loaded = Signal(object, object)  # path, Classifier
    failed = Signal(object, object)  # path, exception

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._worker: workers.Worker | None = None
        self._token: object | None = None
        self.busy = False

    def load(self, path: Path, *, device: str = "auto") -> None:
        if self._worker is not None:
            self._worker.cancel()
        self.busy = True
        self.started.emit(path)
        token = object()  # which request this is; slots are connected before the worker starts
        self._token = token
        self._worker = workers.start(
            load_classifier, path, device,
            returned=lambda clf: self._done(token, path, clf),
            errored=lambda exc: self._fail(token, path, exc),
        )

    def _done(self, token, path, clf) -> None:
        if token is self._token:
            self.busy = False
            self.loaded.emit(path, clf)

    def _fail(self, token, path, exc) -> None:
        if token is self._token:
            self.busy = False
            self.failed.emit(path, exc)
