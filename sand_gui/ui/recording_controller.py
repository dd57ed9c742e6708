"""Drives a ``sand_gui.recorder.Recorder`` from a QTimer on the GUI thread.

The PortAudio callback only copies into a queue (in the recorder); this timer drains it
every ``INTERVAL_MS``, which also hands the blocks to the recorder's writer thread and
detects a device that stopped. The controller adds signals and the optional auto-stop at
the task's recommended length; it never touches samples itself.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from ..errors import SandError

INTERVAL_MS = 40


def backend_status() -> tuple[bool, str]:
    """(usable, reason) of audio input; never raises (no PortAudio -> False with the reason)."""
    try:
        from ..recorder import audio_backend_status
    except Exception as exc:  # noqa: BLE001 - missing module or PortAudio library
        return False, f"audio input unavailable ({exc.__class__.__name__}: {exc})"
    try:
        return audio_backend_status()
    except Exception as exc:  # noqa: BLE001
        return False, f"audio input unavailable ({exc})"


def input_device_names() -> list[str]:
    try:
        from ..recorder import list_input_devices

        return [d.name for d in list_input_devices()]
    except Exception:  # noqa: BLE001
        return []


class RecordingController(QObject):
    level = Signal(object)  # recorder.Level
    elapsed = Signal(float, float)  # seconds recorded, recommended seconds
    started = Signal(str, object)  # task id, path being written
    stopped = Signal(str, object, str)  # task id, recorder.Take, note ("" or what happened)
    failed = Signal(str, str)  # task id, one sentence (nothing could be kept)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(INTERVAL_MS)
        self._timer.timeout.connect(self._drain)
        self._recorder = None
        self._task = ""
        self._target = 0.0
        self._auto_stop = False

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    @property
    def task_id(self) -> str:
        return self._task

    def start(
        self, task_id: str, path: Path, *, device_name: str = "", target_seconds: float = 0.0, auto_stop: bool = False
    ) -> None:
        """Open the input device and start a take; SandError (one sentence) when it cannot."""
        from ..recorder import Recorder, find_device

        if self._recorder is not None:
            raise SandError("a recording is already running; stop it first.")
        device = find_device(device_name or None)
        if device_name and device is None:
            raise SandError(f"microphone {device_name!r} is not connected; choose another in Settings.")
        rec = Recorder(device=device)
        try:
            rec.start(Path(path))
        except SandError:
            raise
        except Exception as exc:  # noqa: BLE001 - PortAudio errors become one sentence
            raise SandError(f"the microphone cannot be opened ({exc}).") from None
        self._recorder, self._task, self._target, self._auto_stop = rec, task_id, target_seconds, auto_stop
        self._timer.start()
        self.started.emit(task_id, Path(path))

    def _drain(self) -> None:
        rec = self._recorder
        if rec is None:
            return
        try:
            level = rec.drain()
        except SandError as exc:  # the device stopped: keep what was recorded and say so
            self._finish(str(exc))
            return
        self.level.emit(level)
        self.elapsed.emit(rec.elapsed, self._target)
        if self._auto_stop and self._target and rec.elapsed >= self._target:
            self._finish("")

    def stop(self) -> None:
        if self._recorder is not None:
            self._finish("")

    def _finish(self, note: str) -> None:
        rec, task = self._recorder, self._task
        self._timer.stop()
        self._recorder = None
        try:
            take = rec.stop()
        except Exception as exc:  # noqa: BLE001
            self.failed.emit(
                task, note or (str(exc) if isinstance(exc, SandError) else f"the recording failed ({exc}).")
            )
            return
        interrupted = getattr(take, "interrupted", None)
        self.stopped.emit(task, take, note or (interrupted or ""))
