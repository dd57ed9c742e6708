"""Energy voice-activity detection (the seed's): keep what lies within ``top_db`` of the
loudest frame.

RMS is taken over ``frame_length``-sample frames every ``hop_length`` samples (centred,
as librosa does). The kept range runs from the first to the last frame within ``top_db``
dB of the loudest frame, so short pauses inside a /pa/ train are kept; only leading and
trailing silence goes. The range is returned so a view can shade it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VoicedRange:
    """Kept samples ``[start, stop)`` of a signal of ``n_samples`` samples."""

    start: int
    stop: int
    n_samples: int

    @property
    def length(self) -> int:
        return self.stop - self.start


def frame_rms(x: np.ndarray, *, frame_length: int = 2048, hop_length: int = 512) -> np.ndarray:
    """RMS of centred frames: x [shape=(n,)] -> [shape=(1 + n // hop_length,)]."""
    pad = frame_length // 2
    xp = np.pad(x.astype(np.float64), (pad, pad), mode="constant")
    n_frames = 1 + len(x) // hop_length
    sq = np.concatenate([[0.0], np.cumsum(xp * xp)])
    starts = np.arange(n_frames) * hop_length
    stops = np.minimum(starts + frame_length, len(xp))
    return np.sqrt((sq[stops] - sq[starts]) / frame_length)


def detect_voice(
    x: np.ndarray, *, top_db: float = 30.0, frame_length: int = 2048, hop_length: int = 512
) -> VoicedRange:
    """Kept range of ``x`` [shape=(n,)]: frames within ``top_db`` of the loudest frame."""
    n = len(x)
    rms = frame_rms(x, frame_length=frame_length, hop_length=hop_length)
    peak = rms.max() if rms.size else 0.0
    if peak <= 0:
        return VoicedRange(0, 0, n)
    db = 20 * np.log10(np.maximum(rms, 1e-12) / peak)
    voiced = np.flatnonzero(db > -top_db)
    start = int(voiced[0] * hop_length)
    stop = int(min(n, (voiced[-1] + 1) * hop_length))
    return VoicedRange(start, stop, n)
