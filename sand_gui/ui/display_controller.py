"""Which task the display shows, computed in a worker, with a small bounded cache.

The display (``display.FeatureView``) only draws; this controller decides what to draw for
the selected task from the workspace's ``TaskState`` and runs ``display.display_data`` in a
worker. Results are kept in a least-recently-used cache of ``CACHE_SIZE`` entries keyed by
(task, file, FeatureSpec): going back to a task is instant, and memory stays bounded
(each entry holds a few seconds of audio and three spectrograms, about 1 MB).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QObject

from ..tasks import get_task
from ..workspace import TaskStatus, Workspace
from . import workers
from .display import FeatureView, display_data
from .messages import user_text

CACHE_SIZE = 16


class DisplayController(QObject):
    def __init__(self, workspace: Workspace, view: FeatureView, parent: QObject | None = None):
        super().__init__(parent)
        self.workspace, self.view = workspace, view
        self.cache: OrderedDict[tuple, object] = OrderedDict()
        self._key: tuple | None = None  # what the view shows, or is being computed for it
        self.imports_ready = False

    def show_task(self, task_id: str) -> None:
        task = get_task(task_id)
        state = self.workspace.task(task_id)
        if state.file is None or state.status is TaskStatus.RECORDING:
            self._key = None
            what = "Recording…" if state.status is TaskStatus.RECORDING else f"No recording for “{task.name}” yet."
            self.view.show_message(f"{what}\nSpace: record · Ctrl+O or drop a file: load.")
            return
        if state.status is TaskStatus.REJECTED:
            self._key = None
            self.view.show_message(
                f"{task.name}: rejected.\n{state.error}\nRecord it again (Space) or load another file."
            )
            return
        if state.status is TaskStatus.CHECKING:
            self._key = None
            self.view.show_message(f"{task.name}: checking the recording…")
            return
        key = (task_id, str(state.file), self.workspace.spec)
        if key in self.cache:
            self.cache.move_to_end(key)
            self._key = key
            self.view.show_data(self.cache[key])
            return
        if key == self._key:
            return  # already being computed
        self._key = key
        waiting = "" if self.imports_ready else " (loading the signal-processing libraries first)"
        self.view.show_message(f"computing… {task.name}{waiting}")
        workers.start(
            display_data,
            state.file,
            task_id,
            key[2],
            returned=lambda d, k=key: self._ready(k, d),
            errored=lambda e, k=key: self._failed(k, e),
        )

    def _ready(self, key: tuple, data) -> None:
        self.cache[key] = data
        self.cache.move_to_end(key)
        while len(self.cache) > CACHE_SIZE:
            self.cache.popitem(last=False)
        if key == self._key:
            self.view.show_data(data)

    def _failed(self, key: tuple, exc) -> None:
        if key == self._key:
            self._key = None
            self.view.show_message(user_text(exc))
