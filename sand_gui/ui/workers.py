"""A generic worker: run one Qt-free function in a thread, report through signals.

The napari/superqt pattern: the view decides *which* thread runs the model's function and
wires ``returned`` / ``errored`` / ``finished``; the worker wraps the call so that an
exception arrives as an ``errored`` signal instead of dying in a thread. ``progress`` is
emitted by calling the ``progress`` callback a function may accept. ``cancel()`` sets a
flag: the next ``progress`` call ends the function quietly and ``returned`` is not emitted.
A view cancels its workers and calls ``wait_all`` when it closes, so no thread outlives it.

Every worker first waits for the background importer (``importer.Importer``): heavy
libraries are imported by that one thread only, never by a worker racing another thread.
The pool is a child of the QApplication, so it needs no module-level variable.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import QApplication

from .importer import ALL, Importer

log = logging.getLogger(__name__)
POOL_NAME = "sand-workers"
IMPORT_TIMEOUT_S = 600


class Cancelled(Exception):
    """Raised inside a worker's ``progress`` callback once the worker was cancelled."""


class Pool(QThreadPool):
    """The application's worker pool; ``live`` keeps running workers referenced."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self.setObjectName(POOL_NAME)
        self.setMaxThreadCount(4)  # model load + display + check + analysis at once
        self.live: set[Worker] = set()


def pool() -> Pool:
    """The application's worker pool (its own, so that closing can wait for exactly it)."""
    app = QApplication.instance()
    found = app.findChild(Pool, POOL_NAME)
    return found if found is not None else Pool(app)


class Worker(QObject, QRunnable):
    """Runs ``fn(*args, **kwargs)`` on the pool; emits returned(value) or errored(exc), then finished()."""

    returned = Signal(object)
    errored = Signal(object)
    progress = Signal(object)
    finished = Signal()

    def __init__(self, fn: Callable, *args, needs: str = ALL, **kwargs):
        """``needs``: the stage of the background imports ``fn`` waits for (default: all of them)."""
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.setAutoDelete(False)
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._importer, self._needs = Importer.instance(), needs
        self.cancelled = False
        self.done = False
        try:
            if "progress" in inspect.signature(fn).parameters and "progress" not in kwargs:
                self._kwargs["progress"] = self._report
        except (TypeError, ValueError):  # builtins without a signature
            pass

    def _report(self, *args) -> None:
        """The ``progress`` callback handed to the function: emits, or stops a cancelled worker."""
        if self.cancelled:
            raise Cancelled()
        self.progress.emit(args if len(args) != 1 else args[0])

    def run(self) -> None:  # on a pool thread
        try:
            self._importer.wait(self._needs, timeout=IMPORT_TIMEOUT_S)
            value = self._fn(*self._args, **self._kwargs)
        except Cancelled:
            pass
        except BaseException as exc:
            if not isinstance(exc, Exception):
                log.exception("worker %s aborted", getattr(self._fn, "__name__", self._fn))
            self.errored.emit(exc)
        else:
            if not self.cancelled:
                self.returned.emit(value)
        finally:
            self.done = True
            self.finished.emit()

    def cancel(self) -> None:
        self.cancelled = True


def start(
    fn: Callable, *args, returned=None, errored=None, progress=None, finished=None, needs: str = ALL, **kwargs
) -> Worker:
    """Create a worker for ``fn``, connect the given slots, queue it, and return it."""
    w = Worker(fn, *args, needs=needs, **kwargs)
    for signal, slot in ((w.returned, returned), (w.errored, errored), (w.progress, progress), (w.finished, finished)):
        if slot is not None:
            signal.connect(slot)
    p = pool()
    p.live.add(w)
    w.finished.connect(lambda: p.live.discard(w))
    p.start(w)
    return w


def run_in_worker(fn: Callable, *args, done: Callable, progress=None, **kwargs) -> Worker:
    """The workspace's runner (see ``sand_gui.workspace``): ``fn`` in a worker, then
    ``done(value, exc)`` on the GUI thread."""
    return start(
        fn, *args, returned=lambda v: done(v, None), errored=lambda e: done(None, e), progress=progress, **kwargs
    )


def cancel_all() -> None:
    for w in list(pool().live):
        w.cancel()


def wait_all(timeout_ms: int = 30000) -> bool:
    """Block until every queued worker has run (on close and in tests); True if all did."""
    return pool().waitForDone(timeout_ms)
