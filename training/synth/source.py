"""Voice source: a glottal pulse train with jitter, shimmer, tremor, breaks and creak.

Two pulse shapes (``SourceSpec.model``): Rosenberg's (below) and the Liljencrants-Fant pulse of
``source_lf`` (``"lf"``); everything else (timing, perturbations, creak, breaks) is shared, so
the two families differ only in the shape of each period.

The glottal flow of one period is Rosenberg's (1971) trigonometric model "B": a raised-cosine
opening over ``Tp``, a quarter-cosine closing over ``Tn`` and a closed phase. The excitation
fed to the vocal tract is its first difference (lip radiation folded into the source), so the
output falls at about -6 dB/octave above the first harmonics, as natural voice does.

Pulse times come from integrating an F0 contour (drift + tremor + the caller's intonation),
then perturbing each period independently: for i.i.d. relative perturbations of s.d. ``sigma``
the expected local jitter ``mean|T_k - T_k+1| / mean T`` is ``2 sigma / sqrt(pi)``, so
``sigma = jitter * sqrt(pi) / 2``; shimmer likewise on the pulse amplitudes. Creak episodes
lengthen periods to near an octave below and alternate the pulse amplitudes; voice breaks
silence the pulses inside them. Everything is vectorised: one pass over pulses, one over
samples.

Rosenberg AE (1971). Effect of glottal pulse shape on the quality of natural vowels.
JASA 49(2B):583-590.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .source_lf import CREAK_RD, lf_flow, rd_for_open_quotient

JITTER_TO_SIGMA = np.sqrt(np.pi) / 2  # mean |x - y| of two N(0, s) draws is 2 s / sqrt(pi)


@dataclass(frozen=True)
class SourceSpec:
    """How one recording's voice source behaves (all rates in Hz, fractions not percent)."""

    f0_hz: float  # mean F0
    jitter: float  # local jitter, fraction of the period (0.005 = 0.5 %)
    shimmer: float  # local shimmer, fraction of the amplitude
    tremor_hz: float  # tremor rate
    tremor_depth: float  # F0 modulation depth, fraction (amplitude modulation is 1.5x this)
    breaks_per_s: float  # expected voice breaks per second
    creak_fraction: float  # expected share of time in creak
    open_quotient: float = 0.6  # open phase / period
    speed_quotient: float = 2.5  # opening / closing duration
    drift: float = 0.01  # s.d. of the slow (< 1 Hz) F0 wander, fraction
    model: str = "rosenberg"  # pulse shape: "rosenberg" or "lf"
    rd_factor: float = 1.0  # LF only: the speaker's Rd relative to the one matching ``open_quotient``


def rosenberg(pos: np.ndarray, *, open_quotient: float, speed_quotient: float) -> np.ndarray:
    """Glottal flow of one period: position in the period ``pos`` in [0, 1) -> flow in [0, 1].

    ``pos`` [shape=(n,)] -> [shape=(n,)].
    """
    tp = open_quotient * speed_quotient / (1.0 + speed_quotient)
    tn = open_quotient / (1.0 + speed_quotient)
    rise = 0.5 * (1.0 - np.cos(np.pi * np.minimum(pos, tp) / tp))
    fall = np.cos(0.5 * np.pi * np.clip(pos - tp, 0.0, tn) / tn)
    return np.where(pos < tp, rise, np.where(pos < tp + tn, fall, 0.0))


def pulse_shape(pos: np.ndarray, *, creak: np.ndarray, spec: SourceSpec) -> np.ndarray:
    """Flow at position ``pos`` [shape=(n,)] in each period, creaky periods pressed: -> [shape=(n,)]."""
    if spec.model == "lf":
        rd = rd_for_open_quotient(spec.open_quotient) * spec.rd_factor
        flow = lf_flow(pos, rd=rd)
        return np.where(creak, lf_flow(pos, rd=CREAK_RD), flow) if creak.any() else flow
    oq = np.where(creak, min(spec.open_quotient, 0.4), spec.open_quotient)
    return rosenberg(pos, open_quotient=oq, speed_quotient=spec.speed_quotient)


def episodes(duration: float, *, share: float, mean_length: float, rng: np.random.Generator) -> np.ndarray:
    """Random non-overlapping intervals covering about ``share`` of ``duration`` seconds.

    Returns [shape=(k, 2)] (start, stop) pairs in seconds, sorted.
    """
    if share <= 0 or duration <= 0:
        return np.zeros((0, 2))
    count = rng.poisson(share * duration / mean_length)
    if count == 0:
        return np.zeros((0, 2))
    lengths = mean_length * rng.uniform(0.5, 1.5, count)
    starts = np.sort(rng.uniform(0.0, duration, count))
    return np.stack([starts, np.minimum(starts + lengths, duration)], axis=1)


def in_episodes(t: np.ndarray, spans: np.ndarray) -> np.ndarray:
    """Whether each time ``t`` [shape=(n,)] lies inside one of ``spans`` [shape=(k, 2)]."""
    if len(spans) == 0:
        return np.zeros(t.shape, dtype=bool)
    i = np.searchsorted(spans[:, 0], t, side="right") - 1
    ok = i >= 0
    return ok & (t < spans[np.clip(i, 0, None), 1])


def f0_contour(
    n: int, *, spec: SourceSpec, sample_rate: int, rng: np.random.Generator, shape: np.ndarray | None = None
) -> np.ndarray:
    """Per-sample F0 in Hz [shape=(n,)]: mean x slow drift x tremor x caller's ``shape``."""
    t = np.arange(n) / sample_rate
    knots = np.arange(0.0, t[-1] + 1.0, 0.5) if n else np.zeros(1)
    wander = np.interp(t, knots, spec.drift * rng.standard_normal(len(knots)))
    tremor = spec.tremor_depth * np.sin(2 * np.pi * spec.tremor_hz * t + rng.uniform(0, 2 * np.pi))
    f0 = spec.f0_hz * (1.0 + wander) * (1.0 + tremor)
    return f0 * shape if shape is not None else f0


@dataclass
class Source:
    """A synthesised source: ``flow`` and ``excitation`` [shape=(n,)], pulse ``times`` [shape=(k,)]."""

    flow: np.ndarray
    excitation: np.ndarray
    times: np.ndarray
    voiced: np.ndarray  # [shape=(n,)] bool, False inside voice breaks and after the last pulse


def glottal_source(
    n: int, *, spec: SourceSpec, sample_rate: int, rng: np.random.Generator, f0_shape: np.ndarray | None = None
) -> Source:
    """Voice source of ``n`` samples; ``f0_shape`` [shape=(n,)] multiplies the F0 contour."""
    f0 = f0_contour(n, spec=spec, sample_rate=sample_rate, rng=rng, shape=f0_shape)
    t = np.arange(n) / sample_rate
    phase = np.cumsum(f0) / sample_rate
    k = np.arange(1, int(phase[-1]) + 1)
    nominal = np.interp(k, phase, t)  # where the phase crosses each integer
    periods = np.diff(nominal, prepend=nominal[0] - 1.0 / spec.f0_hz)
    duration = n / sample_rate
    creak = in_episodes(nominal, episodes(duration, share=spec.creak_fraction, mean_length=0.25, rng=rng))
    jit = spec.jitter * JITTER_TO_SIGMA
    periods = periods * (1.0 + jit * rng.standard_normal(len(periods)))
    periods = np.where(creak, periods * rng.uniform(1.6, 2.2, len(periods)), periods)
    times = nominal[0] + np.concatenate([[0.0], np.cumsum(periods[1:])])
    periods = np.append(periods[1:], periods[-1])  # from now on: pulse k lasts until pulse k + 1
    keep = times < duration
    times, periods, creak = times[keep], periods[keep], creak[keep]
    amps = np.exp(spec.shimmer * JITTER_TO_SIGMA * rng.standard_normal(len(times)))
    amps *= 1.0 + 1.5 * spec.tremor_depth * np.sin(2 * np.pi * spec.tremor_hz * times + rng.uniform(0, 2 * np.pi))
    alternate = np.where(np.arange(len(times)) % 2 == 0, 1.0, 0.45)
    amps = np.where(creak, amps * alternate * 0.8, amps)
    breaks = episodes(duration, share=spec.breaks_per_s * 0.12, mean_length=0.12, rng=rng)
    amps = np.where(in_episodes(times, breaks), 0.0, amps)

    idx = np.searchsorted(times, t, side="right") - 1
    inside = (idx >= 0) & (idx < len(times))
    idx = np.clip(idx, 0, max(len(times) - 1, 0))
    if len(times) == 0:
        flow = np.zeros(n)
    else:
        pos = np.clip((t - times[idx]) / periods[idx], 0.0, 1.0)
        flow = pulse_shape(pos, creak=creak[idx], spec=spec) * amps[idx] * inside
    voiced = inside & ~in_episodes(t, breaks)
    excitation = np.diff(flow, prepend=0.0)
    return Source(flow, excitation, times, voiced)
