"""Loading recordings: any file soundfile reads -> mono float32 at the model's rate.

Checks made here, at the boundary, each failing with one sentence that names the file:
unreadable / not audio, 0 frames, absurd sample rate, NaN or Inf samples, digital
silence. Warnings (kept, not rejected): clipping, DC offset (removed), very low level,
file longer than ``MAX_SECONDS`` (only the first ``MAX_SECONDS`` are used).
Multichannel audio is mixed down by averaging; resampling uses soxr (VHQ).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from .errors import AudioError

MIN_SOURCE_RATE = 4000  # Hz; below this there is no speech band left
MAX_SOURCE_RATE = 384000  # Hz; above this the file is almost certainly corrupt
MAX_SECONDS = 120.0  # longer files are truncated with a warning
CLIP_LEVEL = 0.999  # |x| at or above this counts as clipped
CLIP_WARN_SHARE = 0.001  # warn when more than 0.1 % of samples are clipped
DC_WARN = 0.01  # warn (and remove) when |mean| exceeds this
LOW_LEVEL_DBFS = -35.0  # warn when the peak lies below this
SILENCE_PEAK = 1e-4  # peak below -80 dBFS: digital silence, rejected


@dataclass
class Recording:
    """A loaded recording: mono float32 ``samples`` [shape=(n,)] at ``sample_rate``."""

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
    return path.name or str(path)


def read_audio(path: str | Path) -> tuple[np.ndarray, int, int, list[str]]:
    """Read a file as float32 [shape=(n, channels)] plus its rate, channel count, warnings."""
    path = Path(path)
    name = _name(path)
    if not path.exists():
        raise AudioError(f"{name}: file not found.")
    if path.is_dir():
        raise AudioError(f"{name}: is a folder, not an audio file.")
    warnings: list[str] = []
    try:
        info = sf.info(str(path))
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError
        reason = str(exc).split(":")[-1].strip() or "unrecognised format"
        raise AudioError(f"{name}: not a readable audio file ({reason}).") from None
    rate = int(info.samplerate)
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise AudioError(
            f"{name}: sample rate {rate} Hz is outside the usable range "
            f"{MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz."
        )
    if info.frames == 0:
        raise AudioError(f"{name}: the file holds no audio (0 frames).")
    limit = int(MAX_SECONDS * rate)
    try:
        data, _ = sf.read(str(path), dtype="float32", always_2d=True, frames=limit)
    except Exception as exc:
        raise AudioError(f"{name}: the audio data cannot be decoded ({exc}).") from None
    if data.shape[0] == 0:
        raise AudioError(f"{name}: the file holds no audio (0 frames).")
    if info.frames > limit:
        warnings.append(
            f"{info.frames / rate:.0f} s long; only the first {MAX_SECONDS:.0f} s are used"
        )
    return data, rate, int(info.channels), warnings


def to_mono(data: np.ndarray) -> np.ndarray:
    """Average channels: [shape=(n, c)] -> [shape=(n,)]."""
    return data.mean(axis=1, dtype=np.float64).astype(np.float32) if data.ndim == 2 else data


def check_signal(x: np.ndarray, *, name: str) -> list[str]:
    """Reject non-finite or silent signals; return quality warnings. Removes DC in place."""
    if not np.isfinite(x).all():
        bad = int((~np.isfinite(x)).sum())
        raise AudioError(f"{name}: contains {bad} NaN or infinite samples.")
    warnings: list[str] = []
    clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL))
    if clipped > CLIP_WARN_SHARE:
        warnings.append(f"clipping: {100 * clipped:.1f} % of samples at full scale")
    dc = float(x.mean())
    if abs(dc) > DC_WARN:
        x -= dc
        warnings.append(f"DC offset of {dc:+.3f} removed")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak < SILENCE_PEAK:
        level = "digital silence" if peak == 0 else f"peak {20 * np.log10(peak):.0f} dBFS"
        raise AudioError(f"{name}: no voice found ({level}).")
    peak_db = 20 * np.log10(peak)
    if peak_db < LOW_LEVEL_DBFS:
        warnings.append(f"very low level: peak {peak_db:.0f} dBFS")
    return warnings


def resample(x: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """Band-limited resampling with soxr (very high quality); identity when rates match."""
    if orig_sr == target_sr:
        return x.astype(np.float32, copy=False)
    return soxr.resample(x, orig_sr, target_sr, quality="VHQ").astype(np.float32)


def lowpass(x: np.ndarray, *, sample_rate: int, cutoff_hz: float) -> np.ndarray:
    """Band-limit to ``cutoff_hz`` by resampling down to 2*cutoff and back (soxr's filter)."""
    low = int(round(2 * cutoff_hz))
    if low >= sample_rate:
        return x
    y = resample(resample(x, orig_sr=sample_rate, target_sr=low), orig_sr=low, target_sr=sample_rate)
    return y[: len(x)] if len(y) >= len(x) else np.pad(y, (0, len(x) - len(y)))


def load_recording(
    path: str | Path, *, sample_rate: int, bandlimit_hz: float | None = None
) -> Recording:
    """Load ``path`` as mono float32 at ``sample_rate``, band-limited to ``bandlimit_hz``.

    Band-limiting makes a 48 kHz bedside microphone look like the data the model was
    trained on (for SAND, 8 kHz smartphone audio: nothing above 4 kHz).
    """
    path = Path(path)
    data, rate, channels, warnings = read_audio(path)
    x = to_mono(data)
    warnings += check_signal(x, name=_name(path))
    x = resample(x, orig_sr=rate, target_sr=sample_rate)
    if bandlimit_hz is not None and bandlimit_hz < min(rate, sample_rate) / 2:
        x = lowpass(x, sample_rate=sample_rate, cutoff_hz=bandlimit_hz)
    return Recording(path, x, sample_rate, rate, channels, warnings)
