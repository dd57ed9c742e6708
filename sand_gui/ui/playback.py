"""Playing a recording through the computer's own audio output, without PortAudio.

Recording needs PortAudio (``sounddevice``); listening to a loaded recording should not.
Qt's audio classes (``QMediaPlayer``, ``QSoundEffect``) live in QtMultimedia, which
PySide6-Essentials does not ship (it is in PySide6-Addons, a few hundred MB more), so
``Player`` hands the file to the operating system's own player in a ``QProcess``:
``afplay`` on macOS, PowerShell's ``Media.SoundPlayer`` on Windows, and on Linux the first
of ``pw-play`` (PipeWire), ``paplay`` (PulseAudio) and ``aplay`` (ALSA) that is installed.
A file those players may not read (FLAC, float or 24-bit WAV, ...) is first converted to a
temporary 16-bit WAV with ``soundfile``.

Nothing blocks the GUI thread and nothing can hang: the player runs in its own process, a
watchdog stops it when it outlives the recording by ``timeout_margin_s``, and every failure
(no player, no output device, an unreadable file) arrives as one sentence on ``error``.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QTimer, Signal

from ..errors import one_line

LINUX_PLAYERS = (
    ("pw-play", ()),
    ("paplay", ()),
    ("aplay", ("-q",)),
)  # tried in this order
PLAYABLE = ("WAV", "PCM_16")  # (format, subtype) every player above reads as it is


def player_command(wav: Path, *, platform: str = sys.platform) -> list[str] | None:
    """The command line that plays ``wav`` (a 16-bit PCM WAV file) with the system's own
    player, or None when this computer has none of the players looked for."""
    if platform == "darwin":
        exe = shutil.which("afplay")
        return [exe, str(wav)] if exe else None
    if platform.startswith("win"):
        exe = shutil.which("powershell") or shutil.which("pwsh")
        quoted = str(wav).replace("'", "''")
        return (
            [
                exe,
                "-NoProfile",
                "-NonInteractive",
                "-Command",
                f"(New-Object Media.SoundPlayer '{quoted}').PlaySync()",
            ]
            if exe
            else None
        )
    for name, args in LINUX_PLAYERS:
        exe = shutil.which(name)
        if exe:
            return [exe, *args, str(wav)]
    return None


def backend_status() -> tuple[bool, str]:
    """(usable, reason): whether ``Player`` finds a system player here, and which, or why not."""
    cmd = player_command(Path("x.wav"))
    if cmd is None:
        looked = (
            "afplay"
            if sys.platform == "darwin"
            else "PowerShell"
            if sys.platform.startswith("win")
            else ", ".join(n for n, _ in LINUX_PLAYERS)
        )
        return (
            False,
            f"no audio player was found on this computer (looked for {looked})",
        )
    return True, f"plays through {Path(cmd[0]).name}"


class Player(QObject):
    """Plays one audio file at a time; ``play`` returns at once.

    ``command`` replaces the system player: a program and its arguments, to which the path
    of a 16-bit WAV file is appended (tests use a stand-in). ``finished`` comes when the file
    has played to its end or ``stop`` ended it; ``error`` instead, with one sentence, when it
    could not be played. ``playing`` is False again before either is emitted."""

    finished = Signal()
    error = Signal(str)
    playingChanged = Signal(bool)

    def __init__(
        self,
        parent: QObject | None = None,
        *,
        command: Sequence[str] | None = None,
        timeout_margin_s: float = 10.0,
    ):
        super().__init__(parent)
        self._command = list(command) if command is not None else None
        self._margin = float(timeout_margin_s)
        self._active = False  # the process plays for us; False while it is being stopped
        self._name = ""
        self._proc = QProcess(self)  # one process object, reused: nothing to delete while Qt still uses it
        self._proc.setStandardOutputFile(QProcess.nullDevice())
        self._proc.finished.connect(self._ended)
        self._proc.errorOccurred.connect(self._failed)
        self._tmp = Path(tempfile.mkdtemp(prefix="sand-play-"))
        weakref.finalize(self, shutil.rmtree, self._tmp, True)
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._overdue)

    @property
    def playing(self) -> bool:
        return self._active

    def play(self, path: Path | str) -> None:
        """Start playing ``path`` (any format ``soundfile`` reads), stopping what was playing."""
        self.stop()
        path = Path(path)
        self._name = one_line(path.name)
        try:
            wav, seconds = self._playable(path)
        except Exception as exc:  # noqa: BLE001 - soundfile's errors for unreadable files vary
            self.error.emit(f"{self._name} cannot be played: {_reason(exc)}.")
            return
        cmd = [*self._command, str(wav)] if self._command is not None else player_command(wav)
        if cmd is None:
            self.error.emit(f"{self._name} cannot be played: {backend_status()[1]}.")
            return
        self._proc.setProgram(cmd[0])
        self._proc.setArguments(cmd[1:])
        self._active = True
        self._watchdog.start(int(1000 * (seconds + self._margin)))
        self.playingChanged.emit(True)
        self._proc.start()

    def stop(self) -> None:
        """Stop playing at once (``finished`` follows); nothing happens when nothing plays."""
        if not self._halt():
            return
        self.playingChanged.emit(False)
        self.finished.emit()

    def _halt(self) -> bool:
        """End the player process, if one plays for us; True when one did."""
        if not self._active:
            return False
        self._active = False  # first: the finished signal that the kill causes is then ignored
        self._watchdog.stop()
        if self._proc.state() != QProcess.ProcessState.NotRunning:
            self._proc.kill()
            self._proc.waitForFinished(3000)
        return True

    def _playable(self, path: Path) -> tuple[Path, float]:
        """``path`` itself when every player reads it, else a 16-bit WAV copy; and its seconds."""
        import soundfile as sf

        info = sf.info(str(path))
        if info.frames <= 0:
            raise ValueError("the file holds no audio")
        seconds = info.frames / info.samplerate
        if (info.format, info.subtype) == PLAYABLE:
            return path, seconds
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        wav = self._tmp / "playback.wav"
        sf.write(str(wav), data, rate, subtype="PCM_16")
        return wav, seconds

    def _program(self) -> str:
        return one_line(Path(self._proc.program()).name)

    def _ended(self, code: int, status: QProcess.ExitStatus) -> None:
        if not self._active:
            return
        self._active = False
        self._watchdog.stop()
        stderr = bytes(self._proc.readAllStandardError()).decode("utf-8", "replace")
        self.playingChanged.emit(False)
        if status == QProcess.ExitStatus.NormalExit and code == 0:
            self.finished.emit()
            return
        lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
        why = _reason(lines[-1]) if lines else f"the player {self._program()} stopped with code {code}"
        self.error.emit(f"{self._name} could not be played: {why}.")

    def _failed(self, err: QProcess.ProcessError) -> None:
        if not self._active or err != QProcess.ProcessError.FailedToStart:
            return  # a crash also ends in ``finished``, handled there
        self._active = False
        self._watchdog.stop()
        self.playingChanged.emit(False)
        self.error.emit(
            f"{self._name} could not be played: the player {self._program()} "
            f"did not start ({_reason(self._proc.errorString())})."
        )

    def _overdue(self) -> None:
        if not self._halt():
            return
        self.playingChanged.emit(False)
        self.error.emit(
            f"{self._name} could not be played: the player {self._program()} was still running "
            f"{self._margin:g} s after the end of the recording, so it was stopped (is the audio output busy?)."
        )


def _reason(text) -> str:
    """One line without a closing full stop, for the middle of a sentence."""
    return one_line(str(text)).strip().rstrip(".") or "unknown reason"
