"""The regions of a recording a clinician can name, on the model's own mel/time grid.

* sustained vowels: the F0 band (median F0 from Praat, or autocorrelation without it, from
  F0/1.25 to F0x1.25, about +-4 semitones), the formant region (300-3000 Hz: nearly all F1 and F2
  values of the adults in Peterson & Barney 1952, F1 190-1110 Hz and F2 560-3100 Hz, as Praat's
  "Create formant table (Peterson & Barney 1952)" holds them), the band above it, the onset
  (first 0.3 s), the steady middle and the offset (last 0.3 s);
* /pa/ /ta/ /ka/: each syllable's burst (``BURST_S`` = 30 ms around its onset) and its vowel (the
  rest, up to the next onset). Syllables are Praat's intensity peaks (``measures.ddk``) or,
  without Praat, peaks of the trimmed signal's energy; ``Region.source`` says which was used.

``find_regions`` gives them for one recording (the features of the VAD-trimmed audio,
``features.prepare_input``); ``explain`` hides them one at a time. No torch here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import one_line
from .features import FeatureSpec, trim
from .plots import hz_to_mel, mel_to_hz
from .tasks import PHONATION, get_task

EDGE_S = 0.3  # onset and offset of a sustained vowel
FORMANT_BAND_HZ = (300.0, 3000.0)
F0_FACTOR = 1.25  # the F0 band spans F0 / 1.25 .. F0 x 1.25 (about +-4 semitones)
F0_RANGE_HZ = (60.0, 500.0)  # autocorrelation search range
BURST_S = 0.03  # a stop burst: 10 ms before its onset to 20 ms after


@dataclass(frozen=True)
class Region:
    """A named time-frequency region. Times in seconds of the recording, band in Hz; ``rows``
    (mel bins) and ``frames`` (feature frames of the trimmed audio) are half-open spans on the
    model's grid."""

    name: str
    t0: float
    t1: float
    f0_hz: float
    f1_hz: float
    kind: str  # f0_band, formants, upper_band, onset, steady, offset, burst, vowel
    rows: tuple[int, int] = (0, 0)
    frames: tuple[int, int] = (0, 0)
    source: str = ""  # how its bounds were found

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(rows=list(self.rows), frames=list(self.frames))
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in d.items()}


def mel_rows(f_lo: float, f_hi: float, *, spec: FeatureSpec, family: str) -> tuple[int, int]:
    """Half-open span of mel bins whose centre lies in [f_lo, f_hi] (at least the nearest one)."""
    f_min, f_max = spec.band(family)
    centres = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), spec.n_mels + 2)[1:-1])
    inside = np.flatnonzero((centres >= f_lo) & (centres <= f_hi))
    if inside.size:
        return int(inside[0]), int(inside[-1]) + 1
    i = int(np.argmin(np.abs(centres - (f_lo + f_hi) / 2)))
    return i, i + 1


def time_frames(t0: float, t1: float, *, spec: FeatureSpec, n: int) -> tuple[int, int]:
    """Half-open span of centred frames (of ``n``) whose centre lies in [t0, t1] s of the trimmed audio."""
    fps = spec.frames_per_second
    a = int(np.clip(np.ceil(t0 * fps - 1e-9), 0, n - 1))
    b = int(np.clip(np.floor(t1 * fps + 1e-9) + 1, a + 1, n))
    return a, b


def estimate_f0(x: np.ndarray, *, sample_rate: int) -> tuple[float | None, str]:
    """Median F0 in Hz of voiced audio [shape=(n,)] and how it was found (Praat, else autocorrelation)."""
    try:
        import parselmouth

        pitch = parselmouth.Sound(x.astype(np.float64), sampling_frequency=float(sample_rate)).to_pitch(
            time_step=0.01, pitch_floor=F0_RANGE_HZ[0], pitch_ceiling=F0_RANGE_HZ[1]
        )
        f = pitch.selected_array["frequency"]
        f = f[f > 0]
        if f.size:
            return float(np.median(f)), "Praat pitch (autocorrelation, 60-500 Hz)"
    except ImportError:  # Praat is an optional extra
        pass
    except Exception:  # noqa: BLE001 - parselmouth.PraatError on audio too short for one window
        pass
    n = int(0.04 * sample_rate)
    lags = np.arange(int(sample_rate / F0_RANGE_HZ[1]), int(sample_rate / F0_RANGE_HZ[0]) + 1)
    found = []
    for s in range(0, len(x) - n - lags[-1], n):
        frame = x[s : s + n + lags[-1]].astype(np.float64)
        ref = frame[:n] - frame[:n].mean()
        r = np.array([np.dot(ref, frame[k : k + n] - frame[k : k + n].mean()) for k in lags])
        r /= np.sqrt(np.dot(ref, ref) * n * max(np.var(frame), 1e-12)) + 1e-12
        if r.max() > 0.5:  # the shortest lag near the best one: not an octave below
            found.append(sample_rate / lags[int(np.flatnonzero(r >= 0.9 * r.max())[0])])
    return (float(np.median(found)), "autocorrelation") if found else (None, "autocorrelation")


def syllable_onsets(x: np.ndarray, *, sample_rate: int) -> tuple[np.ndarray, str]:
    """Onset times (s) of the syllables of a trimmed /pa/ /ta/ /ka/ train [shape=(n,)] and how the
    syllables were found: each onset is the steepest rise of the energy before a syllable's peak."""
    from scipy.signal import find_peaks

    from .measures.settings import MeasuresUnavailable

    hop = max(1, int(0.005 * sample_rate))
    frames = np.lib.stride_tricks.sliding_window_view(np.pad(x.astype(np.float64), (hop, hop)), 2 * hop)[::hop]
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-10)
    try:
        from .measures.ddk import find_syllables
        from .measures.settings import settings_for

        peaks, _ = find_syllables(x, sample_rate=sample_rate, settings=settings_for(sex=None, sample_rate=sample_rate))
        peaks = np.round(np.asarray(peaks) * sample_rate / hop).astype(int)
        source = "Praat intensity peaks (de Jong & Wempe 2009)"
    except MeasuresUnavailable:
        smooth = np.convolve(db, np.ones(5) / 5, mode="same")
        peaks, _ = find_peaks(smooth, prominence=6.0, distance=int(0.07 * sample_rate / hop))
        source = "energy peaks of the trimmed signal (Praat is not installed)"
    onsets, previous = [], 0
    rise = np.diff(db, prepend=db[0])
    for p in np.clip(peaks, 0, len(db) - 1):
        lo = max(previous, p - int(0.15 * sample_rate / hop))
        onsets.append((lo + int(np.argmax(rise[lo : p + 1]))) * hop / sample_rate - 0.0025)
        previous = p + 1
    return np.maximum(np.asarray(onsets, dtype=np.float64), 0.0), source


def find_regions(recording, *, spec: FeatureSpec, task_id: str) -> list[Region]:
    """The meaningful regions of a recording (a path, or samples [shape=(n,)] at ``spec.sample_rate``).

    AudioError as the pipeline raises it when the recording cannot be used.
    """
    samples = _samples(recording, spec=spec)
    task = get_task(task_id)
    voiced = trim(samples, spec=spec, name=_name(recording), family=task.family)
    x = samples[voiced.start : voiced.stop]
    offset, seconds, sr = voiced.start / spec.sample_rate, len(x) / spec.sample_rate, spec.sample_rate
    n = 1 + len(x) // spec.hop_length
    f_min, f_max = spec.band(task.family)

    def make(name, t0, t1, lo, hi, kind, source):
        lo, hi = max(lo, f_min), min(hi, f_max)
        rows = mel_rows(lo, hi, spec=spec, family=task.family)
        frames = time_frames(t0, t1, spec=spec, n=n)
        return Region(name, float(offset + t0), float(offset + t1), float(lo), float(hi), kind, rows, frames, source)

    if task.family == PHONATION:
        f0, how = estimate_f0(x, sample_rate=sr)
        out = []
        if f0 is not None:
            out.append(make(f"F0 band (F0 {f0:.0f} Hz)", 0, seconds, f0 / F0_FACTOR, f0 * F0_FACTOR, "f0_band", how))
        lo, hi = FORMANT_BAND_HZ
        out.append(make("formant region (F1-F2)", 0, seconds, lo, hi, "formants", f"fixed {lo:.0f}-{hi:.0f} Hz"))
        if f_max > hi * 1.1:
            out.append(make("above the formants", 0, seconds, hi, f_max, "upper_band", f"fixed {hi:.0f} Hz and up"))
        edge = min(EDGE_S, seconds / 3)
        out.append(make("onset", 0, edge, f_min, f_max, "onset", f"first {edge:.2f} s"))
        out.append(make("steady middle", edge, seconds - edge, f_min, f_max, "steady", "between onset and offset"))
        out.append(make("offset", seconds - edge, seconds, f_min, f_max, "offset", f"last {edge:.2f} s"))
        return out
    onsets, how = syllable_onsets(x, sample_rate=sr)
    out = []
    for i, t in enumerate(onsets):
        end = onsets[i + 1] - BURST_S / 3 if i + 1 < len(onsets) else seconds
        b0, b1 = max(0.0, t - BURST_S / 3), min(seconds, t + 2 * BURST_S / 3)
        out.append(make(f"syllable {i + 1} burst", b0, b1, f_min, f_max, "burst", how))
        if end > b1:
            out.append(make(f"syllable {i + 1} vowel", b1, end, f_min, f_max, "vowel", how))
    return out


def _name(recording) -> str:
    return one_line(Path(recording).name) if isinstance(recording, (str, Path)) else "recording"


def _samples(recording, *, spec: FeatureSpec) -> np.ndarray:
    if isinstance(recording, (str, Path)):
        from .audio import load_recording

        return load_recording(recording, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz).samples
    return np.asarray(recording, dtype=np.float32)
