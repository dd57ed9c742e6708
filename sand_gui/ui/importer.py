"""The one background importer: numpy, torch, timm and matplotlib, after the first paint.

Python imports a module under a per-module lock, but a package that imports itself in a
cycle (matplotlib does) can hand a second thread a partially initialised module ("cannot
import name 'Transform'"). So nothing heavy is imported from two threads at once: ONE thread
imports everything, in two stages, and everyone else waits for it:

* ``CORE`` (numpy, soundfile, soxr, sounddevice and the numpy-based core of ``sand_gui``):
  the GUI thread may wait for this stage (a fraction of a second) before it reads a model
  card or checks the audio devices;
* ``MODEL`` (torch, torchaudio, timm and ``sand_gui.model``): the model loader waits for this
  stage only, so the model is ready while matplotlib is still being imported;
* ``ALL`` (matplotlib with its Qt canvas, the rest of the core): every other worker waits for
  it before it runs (``workers.start`` does this).

One importer per application, kept as a child of the QApplication (application-wide state
lives on Qt's one object, not in a module variable). ``ready`` is emitted on the GUI thread.
"""

from __future__ import annotations

import importlib
import logging
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

log = logging.getLogger("sand_gui")

CORE_MODULES = (
    "numpy",
    "soundfile",
    "soxr",
    "sounddevice",
    "sand_gui.vad",
    "sand_gui.audio",
    "sand_gui.features",
    "sand_gui.bundle",
    "sand_gui.dataset",
    "sand_gui.quality",
    "sand_gui.recorder",
    "sand_gui.session",
)
MODEL_MODULES = ("torch", "torchaudio", "torchaudio.functional", "timm", "sand_gui.model")
HEAVY_MODULES = (
    "matplotlib",
    "matplotlib.figure",
    "matplotlib.backends.backend_qtagg",
    "matplotlib.backends.backend_pdf",
    "sand_gui.plots",
    "sand_gui.pipeline",
    "sand_gui.report",
    "sand_gui.report_pdf",
)
CORE, MODEL, ALL = "core", "model", "all"
STAGES = ((CORE, CORE_MODULES), (MODEL, MODEL_MODULES), (ALL, HEAVY_MODULES))


class Importer(QObject):
    """Imports the modules of each of ``STAGES`` in turn, in one thread; ``wait`` blocks until a stage is done."""

    stageDone = Signal(str)  # CORE, MODEL, then ALL (on the GUI thread)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName("sand-importer")
        self._lock = threading.Lock()
        self._events = {stage: threading.Event() for stage, _ in STAGES}
        self._thread: threading.Thread | None = None
        self.failures: dict[str, str] = {}  # module -> why it could not be imported (reported by the job that needs it)

    @classmethod
    def instance(cls) -> Importer:
        """The application's importer (created on first use; never started by this call)."""
        app = QApplication.instance()
        found = app.findChild(cls, "sand-importer")
        return found if found is not None else cls(app)

    def start(self) -> None:
        """Begin importing in the background (idempotent). Call it after the first paint."""
        with self._lock:
            if self._thread is None:
                # a daemon: a window closed early must not wait for torch to finish importing at exit
                self._thread = threading.Thread(target=self._run, name="sand-importer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        for stage, names in STAGES:
            for name in names:
                try:
                    importlib.import_module(name)
                except Exception as exc:  # noqa: BLE001 - e.g. no PortAudio: the feature that needs it says so
                    self.failures[name] = f"{exc.__class__.__name__}: {exc}"
                    log.info("background import of %s failed: %s", name, exc)
            self._events[stage].set()
            self.stageDone.emit(stage)

    def done(self, stage: str = ALL) -> bool:
        return self._events[stage].is_set()

    def wait(self, stage: str = ALL, timeout: float | None = None) -> bool:
        """Block until ``stage`` is imported (starting the importer if nobody has); True when done."""
        if not self._events[stage].is_set():
            self.start()
        return self._events[stage].wait(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the importing thread to end (on close: no thread outlives the window)."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
