"""Recording takes from a microphone, Qt-free (the pattern of python-sounddevice's rec_gui.py).

Three activities, each with one job:

* the PortAudio callback (audio thread) only copies each block into a queue;
* ``Recorder.drain()`` (GUI thread, from a QTimer every 30-50 ms, or a loop in tests) takes the
  blocks out, measures their ``Level``, keeps them for playback, hands them to the writer and
  notices a device that stopped delivering;
* a writer thread streams the blocks to ``<take>.wav.part``; ``stop()`` renames it to the take's
  name, so a file with the final name is always complete and a take is never overwritten.

The device is opened at its NATIVE rate and released after each take; the model's rate is
reached later by resampling (``sand_gui.audio``), never by asking the device for it.
``sounddevice`` is imported inside the functions: without PortAudio the application still
starts and ``audio_backend_status()`` says why recording is off.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .audio import CLIP_LEVEL
from .errors import DeviceError, UsageError

SUBTYPE = "PCM_16"  # takes are 16-bit WAV, like the SAND recordings
STALL_SECONDS = 2.0  # no audio block for this long while recording: the device is gone
STARTUP_SECONDS = 5.0  # ... except before the first block (some devices start slowly)
PART_SUFFIX = ".part"


def _sounddevice():
    """The sounddevice module; DeviceError when PortAudio cannot be loaded."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError("PortAudio library not found")
        raise DeviceError(
            f"Recording is unavailable: {exc} (install PortAudio, e.g. the libportaudio2 package)."
        ) from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    """A microphone as PortAudio lists it."""

    index: int
    name: str
    hostapi: str
    default_samplerate: float
    max_input_channels: int

    @property
    def label(self) -> str:
        """Display text: ``"name (host API)"``."""
        return f"{self.name} ({self.hostapi})"


def _input_devices(sd) -> list[InputDevice]:
    apis = [a["name"] for a in sd.query_hostapis()]
    return [
        InputDevice(
            int(d["index"]),
            str(d["name"]),
            apis[d["hostapi"]],
            float(d["default_samplerate"]),
            int(d["max_input_channels"]),
        )
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel; ``[]`` when PortAudio is missing."""
    try:
        sd = _sounddevice()
    except DeviceError:
        return []
    try:
        return _input_devices(sd)
    except sd.PortAudioError:
        return []


def audio_backend_status() -> tuple[bool, str]:
    """``(usable, reason)``: PortAudio loads and sees at least one input device."""
    try:
        _sounddevice()
    except DeviceError as exc:
        return False, str(exc)
    devices = list_input_devices()
    if not devices:
        return False, "Recording is unavailable: no microphone found (PortAudio lists no input device)."
    default = find_device(None)
    name = default.label if default else devices[0].label
    return True, f"{len(devices)} input device(s); default: {name}."


def rescan_devices() -> None:
    """Re-read the device list (PortAudio caches it at start-up), e.g. after plugging in a
    microphone. Only call it while nothing records or plays."""
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()


def find_device(name_or_index: str | int | None) -> InputDevice | None:
    """The input device with this index or name (exact, else a unique substring, both
    case-insensitive); ``None`` asks for the system default input, and returns None only
    when there is no input device at all. DeviceError when a named device is absent."""
    if name_or_index is None or (isinstance(name_or_index, str) and not name_or_index.strip()):
        try:
            sd = _sounddevice()
        except DeviceError:
            return None
        devices = list_input_devices()
        default = sd.default.device[0]
        for d in devices:
            if d.index == default:
                return d
        return devices[0] if devices else None
    _sounddevice()  # DeviceError naming the cause when PortAudio is missing
    devices = list_input_devices()
    text = str(name_or_index).strip()
    if isinstance(name_or_index, int) or text.isdigit():
        for d in devices:
            if d.index == int(text):
                return d
        raise DeviceError(f"Microphone number {text} not found; {_available(devices)}")
    exact = [d for d in devices if d.name.lower() == text.lower()]
    if exact:
        return exact[0]
    partial = [d for d in devices if text.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        names = ", ".join(repr(d.name) for d in partial)
        raise DeviceError(f"Microphone {text!r} is ambiguous: it matches {names}.")
    raise DeviceError(f"Microphone {text!r} not found; {_available(devices)}")


def _available(devices: list[InputDevice]) -> str:
    if not devices:
        return "no input device is connected."
    return "available: " + ", ".join(repr(d.name) for d in devices) + "."


@dataclass
class Level:
    """Level of the samples drained since the last call: linear ``peak`` and ``rms`` (0..1)."""

    peak: float
    rms: float
    clipped: bool

    @property
    def peak_dbfs(self) -> float:
        return 20 * float(np.log10(max(self.peak, 1e-6)))

    @property
    def rms_dbfs(self) -> float:
        return 20 * float(np.log10(max(self.rms, 1e-6)))


SILENT = Level(0.0, 0.0, False)


@dataclass
class Take:
    """A finished recording: ``samples`` float32 [shape=(n,)] (or (n, channels)) at the
    device's native ``sample_rate``, stored in ``path``."""

    path: Path
    samples: np.ndarray
    sample_rate: int
    seconds: float
    interrupted: str | None  # why the device stopped early, None for a normal stop
    warnings: list[str] = field(default_factory=list)  # e.g. input overflows (samples lost)


class Recorder:
    """Records one take from an input device at its NATIVE rate; the PortAudio callback only copies
    into a queue; drain() (called from a QTimer on the GUI thread, or a loop in tests) moves blocks to
    a writer thread that streams them to `<path>.part`; stop() finishes the file atomically (rename).

    After ``drain()`` raised a DeviceError (device unplugged, stream error), the take is already
    saved with what was recorded; ``stop()`` then returns it with ``interrupted`` set.
    """

    def __init__(self, *, device: InputDevice | None = None, channels: int = 1):
        if channels < 1:
            raise UsageError(f"channels must be at least 1, not {channels}.")
        self.device = device
        self.channels = channels
        self._stream = None
        self._blocks: list[np.ndarray] = []
        self._frames = 0
        self._take: Take | None = None

    # --- the audio thread: copy, nothing else -------------------------------------------
    def _callback(self, indata, frames, time_info, status) -> None:
        self._queue.put(indata.copy())
        if status:
            self._status = status

    def _finished_callback(self) -> None:
        self._stream_ended = True

    # --- the writer thread -----------------------------------------------------------------
    def _write(self) -> None:
        while True:
            block = self._write_queue.get()
            if block is None:
                return
            if self._write_error is None:
                try:
                    self._file.write(block)
                except Exception as exc:  # disk full, file removed, ...
                    self._write_error = exc

    # --- the GUI thread ----------------------------------------------------------------------
    @property
    def recording(self) -> bool:
        return self._stream is not None

    @property
    def elapsed(self) -> float:
        """Seconds of audio received so far (updated by ``drain``): the clock the user sees
        is what the file holds, never a promise. After ``stop`` the take's length."""
        if self.recording:
            return self._frames / self._rate
        return self._take.seconds if self._take else 0.0

    @property
    def sample_rate(self) -> int:
        return self._rate if self.recording or self._take else 0

    def start(self, path: Path) -> None:
        """Open the device and record into ``path`` (via ``path.part``); never overwrites."""
        import soundfile as sf

        if self.recording:
            raise UsageError("a take is already being recorded; stop it first.")
        path = Path(path)
        part = path.with_name(path.name + PART_SUFFIX)
        if path.exists() or part.exists():
            raise UsageError(f"{path.name}: a take with this name exists already; takes are never overwritten.")
        sd = _sounddevice()
        device = self.device or find_device(None)
        if device is None:
            raise DeviceError("No microphone found: PortAudio lists no input device.")
        self.device = device
        self._rate = int(round(device.default_samplerate))
        self._path, self._part = path, part
        self._queue: queue.Queue = queue.Queue()
        self._write_queue: queue.Queue = queue.Queue()
        self._blocks, self._frames, self._take = [], 0, None
        self._status = None
        self._overflows = 0
        self._stream_ended = False
        self._write_error: Exception | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = sf.SoundFile(
            part, "x", samplerate=self._rate, channels=self.channels, subtype=SUBTYPE, format="WAV"
        )
        try:
            stream = sd.InputStream(
                device=device.index,
                samplerate=self._rate,
                channels=self.channels,
                dtype="float32",
                callback=self._callback,
                finished_callback=self._finished_callback,
            )
            stream.start()
        except Exception as exc:  # sounddevice.PortAudioError, ValueError for bad settings
            self._file.close()
            part.unlink(missing_ok=True)
            raise DeviceError(
                f"Microphone {device.name!r} cannot be opened at {self._rate} Hz with {self.channels} channel(s): {exc}."
            ) from None
        self._writer = threading.Thread(target=self._write, name="take-writer", daemon=True)
        self._writer.start()
        self._stream = stream
        self._last_block = time.monotonic()

    def _pull(self) -> list[np.ndarray]:
        blocks = []
        while True:
            try:
                blocks.append(self._queue.get_nowait())
            except queue.Empty:
                break
        for b in blocks:
            self._blocks.append(b)
            self._write_queue.put(b)
            self._frames += len(b)
        if self._status is not None:
            if self._status.input_overflow:
                self._overflows += 1
            self._status = None
        return blocks

    def drain(self) -> Level:
        """Move the recorded blocks on; their level. DeviceError when the device failed."""
        if not self.recording:
            return SILENT
        blocks = self._pull()
        now = time.monotonic()
        if blocks:
            self._last_block = now
        reason = None
        if self._write_error is not None:
            reason = f"the take could not be written ({self._write_error})"
        elif self._stream_ended or not self._stream.active:
            reason = "the audio stream ended unexpectedly (device disconnected?)"
        elif now - self._last_block > (STALL_SECONDS if self._frames else STARTUP_SECONDS):
            reason = f"no sound arrived for {now - self._last_block:.1f} s (device disconnected?)"
        if reason:
            self._fail(reason)
        if not blocks:
            return SILENT
        x = np.concatenate(blocks)
        peak = float(np.max(np.abs(x))) if x.size else 0.0
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
        return Level(peak, rms, peak >= CLIP_LEVEL)

    def _close_stream(self, *, abort: bool) -> None:
        stream, self._stream = self._stream, None
        try:
            (stream.abort if abort else stream.stop)()
        except Exception:  # the device may already be gone; what was delivered is in the queue
            pass
        try:
            stream.close()
        except Exception:
            pass

    def _finish(self, interrupted: str | None) -> Take:
        """Write the remaining blocks, close the file and give it its final name."""
        self._pull()
        self._write_queue.put(None)
        self._writer.join()
        self._file.close()
        if self._write_error is not None and interrupted is None:
            interrupted = f"the take could not be written ({self._write_error})"
        if self._frames:
            os.replace(self._part, self._path)
        else:
            self._part.unlink(missing_ok=True)
        samples = np.concatenate(self._blocks) if self._blocks else np.zeros((0, self.channels), np.float32)
        if self.channels == 1:
            samples = samples[:, 0]
        warnings = []
        if self._overflows:
            warnings.append(f"input overflow {self._overflows} time(s): some samples were lost")
        self._blocks = []
        self._take = Take(self._path, samples, self._rate, self._frames / self._rate, interrupted, warnings)
        return self._take

    def _fail(self, reason: str) -> None:
        self._close_stream(abort=True)
        take = self._finish(reason)
        name = self.device.name if self.device else "?"
        if take.seconds > 0:
            kept = f"the {take.seconds:.1f} s recorded so far were kept in {take.path.name}"
        else:
            kept = "nothing had been recorded"
        raise DeviceError(f"Microphone {name!r} stopped: {reason}; {kept}.")

    def stop(self) -> Take:
        """Close the device, finish the file and return the take."""
        if not self.recording:
            if self._take is None:
                raise UsageError("no take is being recorded.")
            return self._take
        self._close_stream(abort=False)
        return self._finish(None)

    def abort(self) -> None:
        """Stop without keeping anything (e.g. the window closes mid-take)."""
        if self.recording:
            self._close_stream(abort=True)
            self._finish("aborted")
            self._path.unlink(missing_ok=True)


def play(samples: np.ndarray, sample_rate: int, *, device: int | str | None = None) -> None:
    """Play ``samples`` [shape=(n,) or (n, c)] on the default (or given) output; returns at once."""
    sd = _sounddevice()
    try:
        sd.play(np.asarray(samples, dtype=np.float32), int(sample_rate), device=device)
    except Exception as exc:  # PortAudioError, ValueError
        raise DeviceError(
            f"Playback on {'the default output' if device is None else repr(device)} failed: {exc}."
        ) from None


def stop_playback() -> None:
    """Stop what ``play`` started; does nothing when audio is unavailable."""
    try:
        _sounddevice().stop()
    except DeviceError:
        pass


def is_playing() -> bool:
    """True while a ``play`` is still sounding."""
    try:
        stream = _sounddevice().get_stream()
    except (DeviceError, RuntimeError):  # RuntimeError: nothing was ever played
        return False
    return bool(stream.active)
