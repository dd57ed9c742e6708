"""The recording strip: the task's instruction, Record / Play / Load, the level meter and the
time recorded; recording a take and playing the current one.

Recording goes through ``RecordingController`` (PortAudio, when there is an input device);
playback through ``playback.Player`` (Qt's own audio output, so a loaded recording plays even
where recording is impossible), else through PortAudio. What a take *is* lives in the
workspace (``begin_recording``, ``recorded``, ``recording_discarded``); this panel keeps no
task state.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..errors import SandError, one_line
from ..tasks import get_task
from ..workspace import TaskStatus, Workspace
from . import recording_controller
from .level_meter import LevelMeter
from .messages import MessageBox
from .recording_controller import RecordingController
from .settings import Settings


def make_player(parent: QWidget):
    """A ``playback.Player`` when this computer has an audio player it can drive, else None
    (then PortAudio plays, when there is an output device)."""
    try:
        from .playback import Player, backend_status
    except ImportError:
        return None
    return Player(parent) if backend_status()[0] else None


class RecordingPanel(QWidget):
    changed = Signal()  # recording started or stopped; audio availability known
    status = Signal(str, int)  # a status-bar message and how long to show it (ms; 0: until replaced)

    def __init__(self, workspace: Workspace, settings: Settings, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace, self.settings = workspace, settings
        self.ensure_session = lambda pid="": workspace.session is not None
        self.current_task = lambda: "phonationA"
        self.audio_ok, self.audio_reason = False, "checking the audio devices…"
        self.recording = RecordingController(self)
        self.recording.level.connect(lambda lv: self.meter.set_level(lv.peak, lv.rms, lv.clipped))
        self.recording.elapsed.connect(self._show_elapsed)
        self.recording.stopped.connect(self._take_stopped)
        self.recording.failed.connect(self._take_failed)
        self.player = None  # made once the background imports are done (QtMultimedia is not light)
        self._pa_playing = False

        self.instruction = QLabel("")
        self.instruction.setWordWrap(True)
        self.instruction.setStyleSheet("font-size:11pt")
        self.record_button = QPushButton("● Record")
        self.play_button = QPushButton("▶ Play")
        self.load_button = QPushButton("Load…")
        self.meter = LevelMeter()
        self.elapsed_label = QLabel("")
        self.elapsed_label.setMinimumWidth(110)
        strip = QHBoxLayout()
        for b in (self.record_button, self.play_button, self.load_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            strip.addWidget(b)
        strip.addWidget(self.meter, 1)
        strip.addWidget(self.elapsed_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.instruction)
        lay.addLayout(strip)
        self.record_button.clicked.connect(self.toggle_recording)
        self.play_button.clicked.connect(self.toggle_playback)

    def devices_known(self) -> None:
        """After the core imports: can this machine record, and play through Qt?"""
        self.audio_ok, self.audio_reason = recording_controller.backend_status()
        if self.player is None:
            self.set_player(make_player(self))
        self.changed.emit()

    def set_player(self, player) -> None:
        """Play through ``player`` (a ``playback.Player``; None: through PortAudio)."""
        self.player = player
        if player is not None:
            player.error.connect(lambda text: MessageBox.show(self, text))
            player.playingChanged.connect(lambda on: self.play_button.setText("■ Stop" if on else "▶ Play"))

    def show_task(self, task_id: str) -> None:
        task = get_task(task_id)
        self.instruction.setText(
            f"<b>{task.name}</b> — {task.instruction} <i>(about {task.recommended_seconds:.0f} s)</i>"
        )

    @property
    def can_play(self) -> bool:
        state = self.workspace.task(self.current_task())
        usable_file = state.file is not None and state.status is not TaskStatus.RECORDING
        return usable_file and not self.recording.recording and (self.player is not None or self.audio_ok)

    # -- recording ---------------------------------------------------------------------------------
    def toggle_recording(self) -> None:
        if self.recording.recording:
            self.recording.stop()
            return
        if not self.audio_ok:
            self.status.emit(self.audio_reason, 8000)
            return
        task_id = self.current_task()
        if not self.ensure_session():
            return
        task = get_task(task_id)
        try:
            path = self.workspace.begin_recording(task_id)
            self.recording.start(
                task_id,
                path,
                device_name=self.settings.input_device,
                target_seconds=task.recommended_seconds,
                auto_stop=self.settings.auto_stop,
            )
        except SandError as exc:
            self.workspace.recording_discarded(task_id)
            MessageBox.error(self, exc)
            return
        self.meter.reset()
        self.record_button.setText("■ Stop (Space)")
        self.status.emit(f"Recording “{task.name}”… Space to stop.", 0)
        self.changed.emit()

    def _show_elapsed(self, seconds: float, target: float) -> None:
        self.elapsed_label.setText(f"{seconds:4.1f} / {target:.0f} s")
        self.elapsed_label.setStyleSheet("color:#1a7f1a;font-weight:bold" if seconds >= target else "")

    def _take_stopped(self, task_id: str, take, note: str) -> None:
        self.record_button.setText("● Record")
        self.meter.reset()
        if note:
            MessageBox.show(self, note)
        if take.seconds <= 0 or not Path(take.path).exists():
            self.workspace.recording_discarded(task_id)
            self.status.emit("Nothing was recorded.", 8000)
        else:
            self.status.emit(f"Saved {one_line(Path(take.path).name)} ({take.seconds:.1f} s).", 8000)
            self.workspace.recorded(task_id, Path(take.path))
        self.changed.emit()

    def _take_failed(self, task_id: str, message: str) -> None:
        self.record_button.setText("● Record")
        self.workspace.recording_discarded(task_id)
        MessageBox.show(self, message)
        self.changed.emit()

    # -- playback ----------------------------------------------------------------------------------
    def toggle_playback(self) -> None:
        if self.stop_playback():
            return
        state = self.workspace.task(self.current_task())
        if state.file is None or not state.file.exists():
            self.status.emit("Nothing to play for this task.", 5000)
            return
        try:
            if self.player is not None:
                self.player.play(state.file)
            elif self.audio_ok:
                self._play_portaudio(state.file)
            else:
                self.status.emit(f"Playback is off: {self.audio_reason}", 8000)
                return
            self.status.emit(f"Playing {one_line(state.file.name)}… (P to stop)", 5000)
        except SandError as exc:
            MessageBox.error(self, exc)
        except Exception as exc:  # noqa: BLE001 - an unreadable file, an output device error
            MessageBox.show(self, f"{one_line(state.file.name)} cannot be played: {one_line(exc)}.")

    def _play_portaudio(self, path: Path) -> None:
        import soundfile as sf

        from ..recorder import play

        data, rate = sf.read(str(path), dtype="float32", always_2d=False)
        play(data, rate)
        self._pa_playing = True

    def stop_playback(self) -> bool:
        """Stop what is playing; True when something was."""
        if self.player is not None and self.player.playing:
            self.player.stop()
            return True
        if self._pa_playing:
            from ..recorder import is_playing, stop_playback

            self._pa_playing = False
            if is_playing():
                stop_playback()
                return True
        return False

    def update_actions(self) -> None:
        rec = self.recording.recording
        self.record_button.setEnabled(self.audio_ok or rec)
        self.record_button.setToolTip(
            "Record the selected task, or stop (Space)" if self.audio_ok else f"Recording is off: {self.audio_reason}"
        )
        self.play_button.setEnabled(self.can_play)
        if self.player is None and not self.audio_ok:
            self.play_button.setToolTip(f"Playback is off: {self.audio_reason}")
        else:
            self.play_button.setToolTip("Play the selected task's recording (P)")

    def close_audio(self) -> None:
        if self.recording.recording:
            self.recording.stop()  # keep the take
        self.stop_playback()
