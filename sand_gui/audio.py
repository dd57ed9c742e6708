"""Loading recordings: any file soundfile reads -> mono float32 at the model's rate.

Every check happens here, at the boundary; each rejection is an ``AudioError`` whose
sentence names the file (``errors.one_line``: a newline in a name stays on one line) and
whose ``code`` is a ``quality.Code``; each warning is a ``quality.Note`` (a sentence with a
code). The recording is used with its warnings, never rejected for them.

Rejections: not found (NOT_FOUND); a folder, unreadable, not audio, undecodable
(UNREADABLE); 0 frames (EMPTY); more than ``MAX_CHANNELS`` channels or more than
``MAX_DECODE_BYTES`` to decode (TOO_LARGE); a sample rate outside ``MIN_SOURCE_RATE``-
``MAX_SOURCE_RATE`` (BAD_RATE); NaN/Inf samples, or any step producing them (NON_FINITE);
all-zero samples ("digital silence") or a constant value ("only a DC offset, no sound")
(SILENT); a peak below ``SILENCE_PEAK`` (-80 dBFS) (NO_VOICE). Whether what remains holds a
voice is decided later, by ``features.trim`` (``voicing``), the path every caller takes.

Warnings: clipping (CLIPPING), DC offset removed (DC_REMOVED), peak below
``LOW_LEVEL_DBFS`` (LOW_LEVEL), longer than ``MAX_SECONDS`` so cut (TRUNCATED), data ending
before the header says (INCOMPLETE), float samples beyond full scale scaled to a peak of 1
(SCALED: a float WAV may legally hold 1e30, which would overflow the mel power to inf).

Limits, checked from the header BEFORE any sample is read, so a 4 KB sparse file whose
header claims 1024 channels or 10^12 frames costs nothing:

* ``MAX_CHANNELS`` = 32 channels;
* at most ``MAX_SECONDS`` = 120 s are decoded, and channels x frames x 8 bytes (float64
  decoding) of that must stay within ``MAX_DECODE_BYTES`` = 512 MiB;
* decoding goes in blocks of ``BLOCK_FRAMES`` frames, each mixed down at once, so the peak
  memory is the mono signal (8 bytes x frames, at most 369 MB at 384 kHz, 7.7 MB for 120 s at
  8 kHz) plus one block.

Decoder messages (libmpg123 on a corrupt MP3) are kept off the terminal. After every step
that scales the samples (mixdown, scaling, DC removal, resampling, band-limit) they are
checked to be finite. Multichannel audio is mixed down by averaging; resampling is soxr VHQ.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError, one_line
from .quality import Code, Note

MIN_SOURCE_RATE = 4000  # Hz; below this there is no speech band left
MAX_SOURCE_RATE = 384000  # Hz; above this the file is almost certainly corrupt
MAX_SECONDS = 120.0  # longer files are truncated with a warning
MAX_CHANNELS = 32  # more is not a speech recording (and would cost memory to mix down)
MAX_DECODE_BYTES = 512 * 1024**2  # channels x frames x 8 bytes decoded, checked from the header
BLOCK_FRAMES = 65536  # frames decoded (all channels) at a time
CLIP_LEVEL = 0.999  # |x| at or above this counts as clipped
CLIP_WARN_SHARE = 0.001  # warn when more than 0.1 % of samples are clipped
DC_WARN = 0.01  # warn (and remove) when |mean| exceeds this
LOW_LEVEL_DBFS = -35.0  # warn when the peak lies below this
SILENCE_PEAK = 1e-4  # peak below -80 dBFS: no voice can be told from the noise floor
FULL_SCALE = 1.0  # float samples beyond this are scaled down (SCALED)

_STDERR_LOCK = threading.Lock()


@dataclass
class Recording:
    """A loaded recording: mono float32 ``samples`` [shape=(n,)] at ``sample_rate``.

    ``warnings`` are ``quality.Note`` (sentences that carry a ``code``).
    """

    path: Path
    samples: np.ndarray
    sample_rate: int
    source_rate: int
    source_channels: int
    warnings: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.sample_rate


def _name(path: Path) -> str:
    return one_line(path.name or str(path), limit=120)


@contextlib.contextmanager
def _quiet_stderr():
    """Send what C decoders print to file descriptor 2 to a scratch file for the duration."""
    with _STDERR_LOCK:
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to protect
            yield
            return
        try:
            with tempfile.TemporaryFile() as sink:
                os.dup2(sink.fileno(), 2)
                try:
                    yield
                finally:
                    os.dup2(saved, 2)
        finally:
            os.close(saved)


def _reason(exc: BaseException) -> str:
    text = str(exc).split(":")[-1].strip() or type(exc).__name__
    return one_line(text, limit=120)


def _open_info(path: Path, name: str):
    """The header (sf.info) of an existing, readable, regular file; AudioError otherwise."""
    try:
        if not path.exists():
            raise AudioError(f"{name}: file not found.", code=Code.NOT_FOUND)
        if path.is_dir():
            raise AudioError(f"{name}: is a folder, not an audio file.", code=Code.UNREADABLE)
        with open(path, "rb"):
            pass
    except AudioError:
        raise
    except OSError as exc:
        why = one_line(exc.strerror or type(exc).__name__, limit=80).lower()
        raise AudioError(f"{name}: the file cannot be opened ({why}).", code=Code.UNREADABLE) from None
    try:
        with _quiet_stderr():
            return sf.info(str(path))
    except Exception as exc:  # noqa: BLE001 - libsndfile raises LibsndfileError, RuntimeError, TypeError, ValueError
        raise AudioError(f"{name}: not a readable audio file ({_reason(exc)}).", code=Code.UNREADABLE) from None


def _declared_wav_frames(path: Path) -> int | None:
    """Frames a RIFF/WAVE header's ``data`` chunk announces (libsndfile silently shortens it to
    what the file holds), or None when the file is not a plain WAV or does not say."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            block = 0
            for _ in range(64):  # a handful of chunks precede the data in any real file
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                size = int.from_bytes(chunk[4:], "little")
                if chunk[:4] == b"fmt ":
                    fmt = fh.read(min(size, 64))
                    block = int.from_bytes(fmt[12:14], "little") if len(fmt) >= 14 else 0
                    fh.seek(size - len(fmt) + (size & 1), 1)
                elif chunk[:4] == b"data":
                    return size // block if block and size != 0xFFFFFFFF else None
                else:
                    fh.seek(size + (size & 1), 1)
    except OSError:
        return None
    return None


def read_audio(path: str | Path) -> tuple[np.ndarray, int, int, list[str]]:
    """Read a file mixed down to mono float64 [shape=(n,)], plus its rate, channel count, warnings.

    Bounds are checked from the header before anything is decoded (see the module docstring).
    """
    path = Path(path)
    name = _name(path)
    info = _open_info(path, name)
    rate, channels, frames = int(info.samplerate), int(info.channels), int(info.frames)
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise AudioError(
            f"{name}: sample rate {rate} Hz is outside the usable range {MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz.",
            code=Code.BAD_RATE,
        )
    if frames <= 0 or channels <= 0:
        raise AudioError(f"{name}: the file holds no audio (0 frames).", code=Code.EMPTY)
    if channels > MAX_CHANNELS:
        raise AudioError(
            f"{name}: the header declares {channels} channels; at most {MAX_CHANNELS} are supported.",
            code=Code.TOO_LARGE,
        )
    limit = min(frames, int(MAX_SECONDS * rate))
    need = limit * channels * 8
    if need > MAX_DECODE_BYTES:
        raise AudioError(
            f"{name}: decoding {channels} channels x {limit / rate:.0f} s would need {need / 2**20:.0f} MiB; "
            f"the limit is {MAX_DECODE_BYTES / 2**20:.0f} MiB.",
            code=Code.TOO_LARGE,
        )
    mono = np.empty(limit, dtype=np.float64)
    got = 0
    try:
        with _quiet_stderr(), sf.SoundFile(str(path)) as f:
            for block in f.blocks(blocksize=BLOCK_FRAMES, dtype="float64", always_2d=True, frames=limit):
                n = min(len(block), limit - got)
                mono[got : got + n] = (block[:n] / channels).sum(axis=1)
                got += n
                if got >= limit:
                    break
    except Exception as exc:  # noqa: BLE001 - any decoder failure is this file's problem, in one sentence
        raise AudioError(f"{name}: the audio data cannot be decoded ({_reason(exc)}).", code=Code.UNREADABLE) from None
    if got == 0:
        raise AudioError(f"{name}: the file holds no audio (0 frames).", code=Code.EMPTY)
    warnings: list[str] = []
    declared = _declared_wav_frames(path)
    if got < limit or (declared is not None and declared > frames):
        announced = max(frames, declared or 0)
        warnings.append(
            Note(
                f"incomplete file: the header announces {announced / rate:.2f} s but only {got / rate:.2f} s could be read",
                code=Code.INCOMPLETE,
            )
        )
    elif frames > limit:
        warnings.append(
            Note(f"{frames / rate:.0f} s long; only the first {MAX_SECONDS:.0f} s are used", code=Code.TRUNCATED)
        )
    return mono[:got], rate, channels, warnings


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average channels: [shape=(n, c)] -> [shape=(n,)] (float64 sums of x / c: no overflow)."""
    if data.ndim != 2:
        return data
    return (data.astype(np.float64) / data.shape[1]).sum(axis=1)


def require_finite(x: np.ndarray, *, name: str, step: str) -> np.ndarray:
    """``x`` unchanged, or AudioError(NON_FINITE) naming the ``step`` that produced NaN/Inf."""
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise AudioError(f"{name}: {bad} NaN or infinite samples {step}.", code=Code.NON_FINITE)
    return x


def check_signal(x: np.ndarray, *, name: str) -> tuple[np.ndarray, list[str]]:
    """Reject non-finite, silent, constant or sub-floor signals; scale float overs; remove DC.

    ``x`` [shape=(n,)] float64 -> (checked copy [shape=(n,)] float64, warnings).
    """
    require_finite(x, name=name, step="in the file")
    warnings: list[str] = []
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak == 0:
        raise AudioError(f"{name}: no voice found (digital silence: every sample is zero).", code=Code.SILENT)
    if x.max() == x.min():
        raise AudioError(
            f"{name}: no voice found (no sound at all: every sample holds the value {x[0]:+.4g}, a constant DC offset).",
            code=Code.SILENT,
        )
    if peak > FULL_SCALE:
        x = require_finite(x / peak, name=name, step="after scaling")
        warnings.append(
            Note(f"float samples reach {peak:.3g}, beyond full scale; scaled to a peak of 1", code=Code.SCALED)
        )
    else:
        x = x.copy()
        clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL))
        if clipped > CLIP_WARN_SHARE:
            warnings.append(Note(f"clipping: {100 * clipped:.1f} % of samples at full scale", code=Code.CLIPPING))
    dc = float(x.mean())
    if abs(dc) > DC_WARN:
        x -= dc
        require_finite(x, name=name, step="after removing the DC offset")
        warnings.append(Note(f"DC offset of {dc:+.3f} removed", code=Code.DC_REMOVED))
    level = float(np.max(np.abs(x)))
    if level < SILENCE_PEAK:
        raise AudioError(
            f"{name}: no voice found (peak {20 * np.log10(level):.0f} dBFS, below the "
            f"{20 * np.log10(SILENCE_PEAK):.0f} dBFS floor).",
            code=Code.NO_VOICE,
        )
    peak_db = 20 * np.log10(level)
    if peak_db < LOW_LEVEL_DBFS:
        warnings.append(Note(f"very low level: peak {peak_db:.0f} dBFS", code=Code.LOW_LEVEL))
    return x, warnings


def resample(x: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling with soxr (very high quality); identity when rates match."""
    if orig_sr == target_sr:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x, orig_sr, target_sr, quality="VHQ").astype(np.float32)


def lowpass(x: np.ndarray, *, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Band-limit to ``cutoff_hz`` by resampling down to 2*cutoff and back (soxr's filter)."""
    low = round(2 * cutoff_hz)
    if low >= sample_rate:
        return x
    y = resample(resample(x, orig_sr=sample_rate, target_sr=low), orig_sr=low, target_sr=sample_rate)
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def load_recording(path: str | Path, *, sample_rate: int, bandlimit_hz: float | None = None) -> Recording:
    """Load ``path`` as mono float32 at ``sample_rate``, band-limited to ``bandlimit_hz``.

    Band-limiting makes a 48 kHz bedside microphone look like the data the model was
    trained on (for SAND, 8 kHz smartphone audio: nothing above 4 kHz). The samples
    returned are finite, or the file is rejected.
    """
    path = Path(path)
    name = _name(path)
    mono, rate, channels, warnings = read_audio(path)
    x, notes = check_signal(mono, name=name)
    warnings += notes
    x = require_finite(
        resample(x.astype(np.float32), orig_sr=rate, target_sr=sample_rate), name=name, step="after resampling"
    )
    if not len(x):  # a few samples at a high rate leave none at the model's rate
        raise AudioError(
            f"{name}: too short: {len(mono)} sample(s) at {rate} Hz leave no sample at {sample_rate} Hz.",
            code=Code.TOO_SHORT,
        )
    if bandlimit_hz is not None and bandlimit_hz < min(rate, sample_rate) / 2:
        x = lowpass(x, sample_rate=sample_rate, cutoff_hz=bandlimit_hz)
        require_finite(x, name=name, step="after band-limiting")
    return Recording(path, x, sample_rate, rate, channels, warnings)
