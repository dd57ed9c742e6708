"""Voicing: does a recording hold a voice at all? ("no voice, no vote").

The energy VAD (``vad.detect_voice``) keeps whatever is within 30 dB of the loudest frame,
so room noise, mains hum, a fan or clicks survive it at any level. This module decides
from the signal's *structure*, independent of its level:

* **Periodicity** per frame (Boersma 1993, Praat's autocorrelation pitch method): a
  Hann-windowed frame's autocorrelation divided by the window's own, normalised at lag 0,
  gives ``r(tau)`` in [-1, 1] (``r / (1 - r)`` is the harmonics-to-noise ratio). The best
  local peak over lags from ``1/F0_MAX`` to ``1/F0_SEARCH_MIN`` is taken with an octave
  cost, so a hum's true 50/60 Hz period wins over its stronger 100/120 Hz harmonic. A frame
  is *voiced* when ``r >= VOICING_R`` (HNR >= 0 dB; breathy class-1 voices sit near 8 dB)
  at an F0 inside the voice range ``F0_MIN``-``F0_MAX`` Hz.
* **Nuclei**: voiced frames count only in runs of at least ``MIN_NUCLEUS_S`` (a vowel, or
  the vowel of a /pa/), which removes isolated chance peaks of noise.
* **Machines**: a recording with no onset, pause or offset (every frame within
  ``STATIONARY_DB`` of the loudest: a fan, a hum, a test tone) must show the rich harmonic
  series of a glottal source, at least ``MIN_HARMONICS`` harmonics up to 3.5 kHz standing
  out of the spectrum, not a blade tone's two or three. Voice recordings start and stop.
* **Level-free**: a fixed white floor of one 16-bit step (``FLOOR_RMS``, -90 dBFS, fixed
  seed) is added before the analysis, so the periodic quantisation error of a very quiet hum
  in a 16-bit file is not mistaken for harmonics; a -45 dBFS voice lies 45 dB above it.
* **Syllable rhythm** (for the /pa/ /ta/ /ka/ family, in the reason shown): the
  autocorrelation of the log energy envelope at a syllable period (1.5-9 per second).
  Clicks or bursts at a syllable-like rate have the rhythm but no voiced nuclei between
  them, so they are refused for the missing nuclei and the sentence says so.

A recording has a voice when its nuclei add up to ``MIN_VOICED_S`` and it is not a machine.
Everything is vectorised numpy at 8 kHz: tens of milliseconds per 5-s recording. ``check_voicing`` raises ``AudioError(code=Code.NO_VOICE)`` whose sentence says why;
``features.trim`` calls it on what the energy VAD kept, so every caller gets it.

Boersma P (1993). Accurate short-term analysis of the fundamental frequency and the
harmonics-to-noise ratio of a sampled sound. Proc. Inst. Phonetic Sciences 17:97-110.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import AudioError
from .quality import Code

ANALYSIS_RATE = 8000  # Hz: voicing lives below 4 kHz; faster inputs are resampled to this
FRAME_S = 0.060  # analysis window: three periods of 50 Hz
HOP_S = 0.010
F0_MIN = 70.0  # Hz: the voice range (Praat: 75); clear of 60 Hz mains, creak below it is not needed
F0_MAX = 600.0
F0_SEARCH_MIN = 40.0  # Hz: lags searched up to 25 ms so a 50/60 Hz hum shows its true period
OCTAVE_COST = 0.05  # per octave, favours the shorter of two near-equal lags (Praat: 0.01, with a path search)
VOICING_R = 0.5  # r of the best peak: HNR >= 0 dB
GATE_DB = 50.0  # frames more than this below the loudest frame are not judged
MIN_NUCLEUS_S = 0.05  # shortest run of voiced frames that counts (a short vowel nucleus)
MIN_VOICED_S = 0.25  # voiced nuclei needed in all
STATIONARY_DB = 10.0  # every frame within this of the loudest: no onset, pause or offset
SYLLABLE_HZ = (1.5, 9.0)  # syllable rates looked for in the energy envelope
RHYTHM_MIN = 0.3  # envelope autocorrelation at a syllable period that counts as a rhythm
HARMONIC_DB = 10.0  # a harmonic stands this far above the spectrum's median
HARMONIC_RANGE_DB = 35.0  # ... and lies within this of the strongest harmonic
HARMONIC_TOP_HZ = 3500.0  # harmonics counted up to here (F2-F3 of /i/ included)
MIN_HARMONICS = 4  # a glottal source is rich; a blade tone or a test tone is not
FLOOR_RMS = 2.0**-15  # analysis noise floor: one 16-bit step (-90 dBFS), fixed seed
CHUNK = 256  # frames per vectorised block (bounds memory: ~40 MB)
UPSAMPLE = 4  # the autocorrelation is read at 4x the sample rate (band-limited, exact), so a period
#               between two samples (130 Hz at 8 kHz: 61.5) is not read lower than its double
#               (123, on a sample) and a voice is never taken for its own sub-octave


@dataclass(frozen=True)
class Voicing:
    """Frame-wise voicing of a signal: ``r``, ``f0``, ``level_db`` and ``voiced`` [shape=(t,)]."""

    r: np.ndarray  # periodicity of the chosen peak, in [-1, 1]
    f0: np.ndarray  # Hz of the chosen peak (0 where no peak was found)
    level_db: np.ndarray  # frame RMS in dB re the loudest frame
    voiced: np.ndarray  # bool: periodic, in the voice range, above the gate, in a nucleus
    harmonics: np.ndarray  # harmonics of f0 standing out of the frame's spectrum
    hop_s: float
    seconds: float

    @property
    def voiced_seconds(self) -> float:
        return float(self.voiced.sum()) * self.hop_s


def _frames(x: np.ndarray, *, width: int, hop: int) -> np.ndarray:
    n = 1 + max(len(x) - width, 0) // hop
    if len(x) < width:
        x = np.pad(x, (0, width - len(x)))
    return np.lib.stride_tricks.sliding_window_view(x, width)[::hop][:n]


def _harmonics(power: np.ndarray, f0: np.ndarray, *, sample_rate: int, nfft: int) -> np.ndarray:
    """How many harmonics of ``f0`` [shape=(t,)] up to ``HARMONIC_TOP_HZ`` stand ``HARMONIC_DB``
    above the median of the frame's spectrum ``power`` [shape=(t, nfft // 2 + 1)] and within
    ``HARMONIC_RANGE_DB`` of the strongest one (not the window's leakage skirt)."""
    top = min(HARMONIC_TOP_HZ, 0.45 * sample_rate)
    nbin = int(top / sample_rate * nfft)
    db = 10 * np.log10(power[:, : nbin + 2] + 1e-300)
    floor = np.median(db[:, 1:nbin], axis=1)
    k = np.arange(1, int(top / F0_MIN) + 1)
    bins = np.rint(np.outer(f0, k) / sample_rate * nfft).astype(int)
    inside = (np.outer(f0, k) <= top) & (f0[:, None] > 0)
    bins = np.clip(bins, 1, nbin)
    peak = np.maximum(
        np.maximum(np.take_along_axis(db, bins - 1, 1), np.take_along_axis(db, bins, 1)),
        np.take_along_axis(db, bins + 1, 1),
    )
    strongest = np.where(inside, peak, -np.inf).max(axis=1, initial=-np.inf)
    stands = (peak > floor[:, None] + HARMONIC_DB) & (peak > strongest[:, None] - HARMONIC_RANGE_DB)
    return (stands & inside).sum(axis=1)


def _runs_at_least(mask: np.ndarray, length: int) -> np.ndarray:
    """``mask`` with runs of True shorter than ``length`` set False."""
    out = mask.copy()
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(np.int8), 0]))
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a < length:
            out[a:b] = False
    return out


def analyse(x: np.ndarray, *, sample_rate: int) -> Voicing:
    """Frame-wise periodicity of ``x`` [shape=(n,)] at ``sample_rate`` (any level).

    Faster inputs are first resampled to ``ANALYSIS_RATE``: the decision then does not
    depend on the model's sample rate, and costs the same at 8 or 48 kHz.
    """
    x = np.asarray(x, dtype=np.float64)
    if sample_rate > ANALYSIS_RATE:
        import soxr

        x = soxr.resample(x, sample_rate, ANALYSIS_RATE, quality="HQ")
        sample_rate = ANALYSIS_RATE
    x = x + FLOOR_RMS * np.random.default_rng(0).standard_normal(len(x))
    width = max(round(FRAME_S * sample_rate), 8)
    hop = max(round(HOP_S * sample_rate), 1)
    nfft = 1 << int(np.ceil(np.log2(2 * width)))
    window = np.hanning(width)
    fine = sample_rate * UPSAMPLE  # lags are counted at this rate
    wac = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft * UPSAMPLE)[: width * UPSAMPLE]
    lo = max(int(np.floor(fine / F0_MAX)), 1)
    hi = min(int(np.ceil(fine / F0_SEARCH_MIN)), width * UPSAMPLE // 2)
    lags = np.arange(lo - 1, hi + 2)
    wnorm = wac[lags] / wac[0]
    frames = _frames(x, width=width, hop=hop)
    rs, f0s, rms, harms = [], [], [], []
    for s in range(0, len(frames), CHUNK):
        f = frames[s : s + CHUNK]
        f = f - f.mean(axis=1, keepdims=True)
        rms.append(np.sqrt(np.mean(f * f, axis=1)))
        spec = np.abs(np.fft.rfft(f * window, nfft, axis=1)) ** 2
        ac = np.fft.irfft(spec, nfft * UPSAMPLE, axis=1)[:, : hi + 2]  # zero-padded spectrum: sinc-interpolated
        zero = ac[:, :1]
        r = np.where(zero > 0, ac[:, lags] / np.maximum(zero, 1e-300), 0.0) / wnorm
        mid = r[:, 1:-1]
        peak = (mid >= r[:, :-2]) & (mid > r[:, 2:])
        tau = lags[1:-1] / fine
        strength = np.where(peak, mid - OCTAVE_COST * np.log2(F0_SEARCH_MIN * tau), -np.inf)
        best = strength.argmax(axis=1)
        rows = np.arange(len(f))
        found = np.isfinite(strength[rows, best])
        # parabolic interpolation of the peak: F0 to a fraction of a lag
        a, b, c = r[rows, best], mid[rows, best], r[rows, best + 2]
        den = a - 2 * b + c
        shift = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
        lag = lags[1:-1][best] + np.clip(shift, -0.5, 0.5)
        f0 = np.where(found, fine / lag, 0.0)
        rs.append(np.where(found, b, 0.0))
        f0s.append(f0)
        harms.append(_harmonics(spec, f0, sample_rate=sample_rate, nfft=nfft))
    r, f0, rms, harm = (np.concatenate(v) if v else np.zeros(0) for v in (rs, f0s, rms, harms))
    top = rms.max() if rms.size else 0.0
    level = 20 * np.log10(np.maximum(rms, 1e-300) / top) if top > 0 else np.full(rms.shape, -np.inf)
    periodic = (r >= VOICING_R) & (f0 >= F0_MIN) & (f0 <= F0_MAX) & (level > -GATE_DB) & (harm >= 1)
    voiced = _runs_at_least(periodic, max(round(MIN_NUCLEUS_S / HOP_S), 1))
    return Voicing(r, f0, level, voiced, harm, HOP_S, len(x) / sample_rate)


def syllable_rhythm(x: np.ndarray, *, sample_rate: int) -> tuple[float, float]:
    """``(strength, rate_hz)``: the highest normalised autocorrelation of the log energy
    envelope (10 ms steps) at a syllable period (``1/SYLLABLE_HZ[1]``-``1/SYLLABLE_HZ[0]`` s),
    and the rate it stands for. A /pa/ train, or clicks at 5/s, give 0.5-1; steady noise ~0."""
    hop = max(round(0.01 * sample_rate), 1)
    x = np.asarray(x, dtype=np.float64)
    env = np.sqrt(np.add.reduceat(x * x, np.arange(0, len(x), hop)) / hop) if len(x) else np.zeros(0)
    lo, hi = int(100 / SYLLABLE_HZ[1]), int(np.ceil(100 / SYLLABLE_HZ[0]))
    if len(env) < 2 * hi:
        return 0.0, 0.0
    env = np.log(env + 1e-3 * env.max() + 1e-300)
    env = env - env.mean()
    nfft = 1 << int(np.ceil(np.log2(2 * len(env))))
    ac = np.fft.irfft(np.abs(np.fft.rfft(env, nfft)) ** 2, nfft)[: hi + 1]
    if ac[0] <= 0:
        return 0.0, 0.0
    ac = ac / ac[0] * len(env) / (len(env) - np.arange(hi + 1))  # unbiased
    best = lo + int(np.argmax(ac[lo : hi + 1]))
    return float(ac[best]), 100.0 / best


def machine_like(v: Voicing) -> str | None:
    """Why a recording sounds like a machine, or None.

    Only a *stationary* recording is judged: every frame within ``STATIONARY_DB`` of the
    loudest, with no onset, pause or offset (a voice recording has them; a fan, a hum or a
    test tone does not). Such a recording must show the rich harmonic series of a glottal
    source (at least ``MIN_HARMONICS`` harmonics), not a blade tone's two or three.
    """
    if not v.voiced.any() or not v.level_db.size or v.level_db.min() < -STATIONARY_DB:
        return None
    hz = float(np.median(v.f0[v.voiced]))
    harmonics = int(np.median(v.harmonics[v.voiced]))
    steady = f"a sound of constant level with no onset or pause, periodic at {hz:.0f} Hz"
    if harmonics < MIN_HARMONICS:
        return (
            f"{steady} with only {harmonics} harmonic{'s' if harmonics != 1 else ''}: a fan, hum or tone, not a voice"
        )
    return None


def check_voicing(x: np.ndarray, *, sample_rate: int, name: str = "recording", family: str | None = None) -> Voicing:
    """Raise ``AudioError(code=Code.NO_VOICE)`` unless ``x`` [shape=(n,)] holds a voice.

    ``family`` (``"phonation"`` or ``"rhythm"``) only shapes the reason given.
    """
    v = analyse(x, sample_rate=sample_rate)
    if v.voiced_seconds >= MIN_VOICED_S:
        why = machine_like(v)
        if why is None:
            return v
    else:
        why = _no_voicing_reason(x, v, sample_rate=sample_rate, family=family)
    raise AudioError(f"{name}: no voice found ({why}).", code=Code.NO_VOICE)


def _no_voicing_reason(x, v: Voicing, *, sample_rate: int, family: str | None) -> str:
    judged = v.level_db > -GATE_DB
    strong = judged & (v.r >= VOICING_R) & (v.f0 > 0)
    low = strong & (v.f0 < F0_MIN)
    if low.sum() > 0.5 * max(judged.sum(), 1):
        hz = float(np.median(v.f0[low]))
        return f"periodic only at {hz:.0f} Hz, below the {F0_MIN:.0f}-{F0_MAX:.0f} Hz voice range: a hum"
    voiced = f"{v.voiced_seconds:.2f} s of periodic voicing in {v.seconds:.1f} s, at least {MIN_VOICED_S:.2f} s needed"
    strength, rate = syllable_rhythm(x, sample_rate=sample_rate)
    if strength > RHYTHM_MIN and family != "phonation":
        return f"bursts at {rate:.1f}/s like syllables but no voiced vowel between them; {voiced}"
    return f"no periodic voicing: {voiced}"
