"""A generic worker: run one Qt-free function in a thread, report through signals.

The napari/superqt pattern: the view decides *which* thread runs the model's function and
wires ``returned`` / ``errored`` / ``finished``; the worker wraps the call so that an
exception arrives as an ``errored`` signal instead of dying in a thread. ``progress`` is
emitted by calling the ``progress`` callback a function may accept. ``cancel()`` sets a
flag: the next ``progress`` call ends the function quietly and ``returned`` is not emitted.
A view cancels its workers and calls ``wait_all`` when it closes, so no thread outlives it.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

_POOL: QThreadPool | None = None


class Cancelled(Exception):
    """Raised inside a worker's ``progress`` callback once the worker was cancelled."""

_LIVE: set["Worker"] = set()


def pool() -> QThreadPool:
    """The application's worker pool (its own, so that closing can wait for exactly it)."""
    global _POOL
    if _POOL is None:
        _POOL = QThreadPool()
        _POOL.setMaxThreadCount(4)  # model load + features + validation + analysis at once
    return _POOL


class Worker(QObject, QRunnable):
    """Runs ``fn(*args, **kwargs)`` on the pool; emits returned(value) or errored(exc), then finished()."""

    returned = Signal(object)
    errored = Signal(object)
    progress = Signal(object)
    finished = Signal()

    def __init__(self, fn: Callable, *args, **kwargs):
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.setAutoDelete(False)
        self._fn, self._args, self._kwargs = fn, args, kwargs
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
            value = self._fn(*self._args, **self._kwargs)
        except Cancelled:
            pass
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the view
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


def start(fn: Callable, *args, returned=None, errored=None, progress=None, finished=None, **kwargs) -> Worker:
    """Create a worker for ``fn``, connect the given slots, queue it, and return it."""
    w = Worker(fn, *args, **kwargs)
    for signal, slot in ((w.returned, returned), (w.errored, errored), (w.progress, progress), (w.finished, finished)):
        if slot is not None:
            signal.connect(slot)
    _LIVE.add(w)
    w.finished.connect(lambda: _LIVE.discard(w))
    pool().start(w)
    return w


def cancel_all() -> None:
    for w in list(_LIVE):
        w.cancel()


def wait_all(timeout_ms: int = 30000) -> bool:
    """Block until every queued worker has run (on close and in tests); True if all did."""
    return pool().waitForDone(timeout_ms)
