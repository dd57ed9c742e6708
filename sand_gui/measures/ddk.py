"""Diadochokinesis (/pa/ /ta/ /ka/ repeated fast): syllables from Praat's intensity contour.

How syllables are found (intensity-peak syllable nuclei, after de Jong & Wempe 2009, "Praat
script to detect syllable nuclei and measure speech rate automatically", Behav Res Methods
41:385-390). Praat computes the contour: ``Filter (pass Hann band)`` 0-1000 Hz keeps the
vowels' energy and drops most of the /t/ and /k/ bursts (2-4 kHz), then ``To Intensity``
(minimum pitch 100 Hz, i.e. a 32 ms window; step 5 ms), on the trimmed recording padded with
0.1 s of silence at each end so that a syllable at the very edge has a dip before or after it.
A syllable is a local maximum of the contour that

1. rises at least ``syllable_dip_db`` (6 dB) above the higher of the two dips that separate it
   from higher peaks on either side (its topographic prominence, ``scipy.signal.find_peaks``):
   the closure of each /p/ /t/ /k/ makes such a dip, ripples inside one vowel do not;
2. lies within ``syllable_floor_db`` (25 dB) of the loudest 1 % of frames (not breath or noise);
3. is at least ``min_syllable_gap`` (70 ms) after the previous one, and finally
4. is not closer to a neighbour than ``min_period_ratio`` (0.5) times the train's median
   interval; otherwise the weaker of the two is dropped (a double peak inside one slow syllable).

There is no voicing test: Praat's pitch tracker leaves short fast vowels unvoiced, and it
dropped true syllables on the synthetic corpus. Agreement with known counts (synthetic corpus,
90 trains, seeds 5 and 11): see docs/measures.md and ``tests/test_measures_ddk.py``.

The rate is (count - 1) / (time of the last peak - time of the first): syllables per second
between the first and the last vowel, independent of pauses before and after the train.
Periods are the intervals between consecutive peaks; the rate change compares the mean
period of the first half of the intervals with that of the second (negative = slowing);
the intensity variation is the SD of the peaks' intensities in dB.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import find_peaks

from .results import DDK_MEASURES, Measure, Why, measured, not_measurable
from .settings import Settings, praat

MIN_SYLLABLES = 5  # 4 intervals: 2 per half for the rate change


def _prune(times: np.ndarray, levels: np.ndarray, *, ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Drop the weaker of any two peaks closer than ``ratio`` x the median interval, repeatedly."""
    times, levels = list(times), list(levels)
    while len(times) > 2:
        gaps = np.diff(times)
        i = int(np.argmin(gaps))
        if gaps[i] >= ratio * float(np.median(gaps)):
            break
        j = i if levels[i] < levels[i + 1] else i + 1
        del times[j], levels[j]
    return np.asarray(times, dtype=np.float64), np.asarray(levels, dtype=np.float64)


def find_syllables(samples: np.ndarray, *, sample_rate: int, settings: Settings) -> tuple[np.ndarray, np.ndarray]:
    """Syllable peak times in seconds from the start of ``samples`` [shape=(k,)] and their
    intensities in dB [shape=(k,)]."""
    parselmouth, call = praat()
    pad = round(settings.edge_pad_seconds * sample_rate)
    x = np.concatenate([np.zeros(pad), np.asarray(samples, dtype=np.float64), np.zeros(pad)])
    snd = parselmouth.Sound(x, sampling_frequency=float(sample_rate))
    try:
        band = call(snd, "Filter (pass Hann band)", *settings.band_args())
        intensity = call(band, "To Intensity", *settings.intensity_args())
    except parselmouth.PraatError:  # shorter than one analysis window
        return np.zeros(0), np.zeros(0)
    db = intensity.values[0]
    finite = np.isfinite(db)
    if finite.sum() < 3:
        return np.zeros(0), np.zeros(0)
    db = np.where(finite, db, np.min(db[finite]))
    floor = float(np.quantile(db, 0.99)) - settings.syllable_floor_db
    gap = max(1, round(settings.min_syllable_gap / intensity.dx))
    peaks, _ = find_peaks(db, height=floor, prominence=settings.syllable_dip_db, distance=gap)
    times = intensity.xs()[peaks] - pad / sample_rate
    return _prune(times, db[peaks], ratio=settings.min_period_ratio)


def ddk_measures(times: np.ndarray, levels: np.ndarray, *, task_id: str, method: str) -> list[Measure]:
    """The DDK measures from syllable times [shape=(k,)] (s) and levels [shape=(k,)] (dB)."""
    k = len(times)
    out = {"syllable_count": measured("syllable_count", k, task_id=task_id, method=method)}
    if k < MIN_SYLLABLES:
        reason = f"{k} syllable{'s' if k != 1 else ''} found; at least {MIN_SYLLABLES} are needed."
        for key in DDK_MEASURES:
            out.setdefault(
                key, not_measurable(key, task_id=task_id, why=Why.TOO_FEW_SYLLABLES, reason=reason, method=method)
            )
        return [out[key] for key in DDK_MEASURES]
    periods = np.diff(times)
    mean = float(periods.mean())
    sd = float(periods.std(ddof=1))
    half = len(periods) // 2
    first, second = float(periods[:half].mean()), float(periods[-half:].mean())
    values = {
        "ddk_rate": (k - 1) / float(times[-1] - times[0]),
        "period_mean_ms": 1000.0 * mean,
        "period_sd_ms": 1000.0 * sd,
        "period_cv_pct": 100.0 * sd / mean,
        "rate_change_pct": 100.0 * (first / second - 1.0),  # rate = 1 / period
        "intensity_sd_db": float(np.std(levels, ddof=1)),
    }
    for key, value in values.items():
        out[key] = measured(key, value if math.isfinite(value) else None, task_id=task_id, method=method)
    return [out[key] for key in DDK_MEASURES]


def measure_ddk(
    samples: np.ndarray, *, sample_rate: int, task_id: str, settings: Settings
) -> tuple[list[Measure], list[float]]:
    """DDK measures of a trimmed recording [shape=(n,)] and its syllable times (s)."""
    times, levels = find_syllables(samples, sample_rate=sample_rate, settings=settings)
    cmd = settings.commands()
    method = (
        f"{cmd['intensity']} (after {settings.edge_pad_seconds:g} s of silence at each end); peaks with "
        f"prominence >= {settings.syllable_dip_db:g} dB, within {settings.syllable_floor_db:g} dB of the "
        f"99th percentile, >= {settings.min_syllable_gap:g} s apart and >= {settings.min_period_ratio:g} x "
        "the median interval apart"
    )
    return ddk_measures(times, levels, task_id=task_id, method=method), [float(t) for t in times]
