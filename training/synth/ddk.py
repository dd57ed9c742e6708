"""Diadochokinesis: trains of /pa/, /ta/ or /ka/.

Each syllable is closure -> burst -> VOT (aspiration) -> vowel /a/, built from three
sample-level envelopes (voicing, aspiration, place noise) drawn with ``np.interp`` through
per-syllable breakpoints, so a whole train costs a handful of vector operations.

* Syllable onsets: mean interval ``1 / rate``; irregularity is a log-normal factor with the
  given coefficient of variation; fatigue stretches the intervals linearly from
  ``1 - f/2`` to ``1 + f/2`` over the train (the mean rate stays ``rate``), lowers the level
  by up to ``6 f`` dB and makes late syllables less precise.
* Bursts carry the spectrum of their place of articulation (Stevens 1998): /p/ diffuse-falling
  (a broad resonance at 300 Hz, 1.8 kHz wide), /t/ diffuse-rising (peak near 3.5 kHz, or
  0.85 x Nyquist), /k/ compact mid-frequency (2 kHz, 350 Hz wide), at -9, -5 and -4 dB re the
  vowel. VOT grows from bilabial to velar (p 12, t 20, k 32 ms, +/-25 % per syllable), the
  short-lag values of Romance voiceless stops (Cho & Ladefoged 1999).
* Imprecise consonants: a syllable is imprecise with probability ``imprecision``; its closure
  is incomplete (voicing leaks through at 10-35 % of the vowel level), spirantised (frication
  noise of the place's spectrum fills it) and its burst is weak.

Two ways to articulate (``Articulation.style``), drawn per speaker, both driven by the same
rate, rhythm, imprecision and fatigue:

* ``"a"``: the envelopes above; the vowel starts on its own formants.
* ``"b"``: bursts that decay exponentially (time constant 2-5 ms), /k/ with a second, weaker
  release 5-12 ms after the first (the multiple bursts of velars, Stevens 1998), aspiration that
  fades, and formant transitions: each vowel starts from its consonant's locus (F1 at 0.5x the
  vowel's; F2 0.7x for /p/, 1.35x for /t/, 1.45x for /k/; F3 0.9x, 1.05x, 0.85x - the
  labial/alveolar/velar pattern of Delattre, Liberman & Cooper 1955; ratios are assumptions)
  and glides to it over the speaker's 25-60 ms; an imprecise syllable undershoots the locus.

Speakers differ in both styles by their closure share (0.28-0.42 of the interval) and a VOT
scale (0.8-1.3).

Delattre PC, Liberman AM, Cooper FS (1955). Acoustic loci and transitional cues for consonants.
JASA 27(4):769-773.
Stevens KN (1998). Acoustic Phonetics. MIT Press, ch. 7.
Cho T, Ladefoged P (1999). Variation and universals in VOT. J Phonetics 27:207-229.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .source import SourceSpec, glottal_source
from .tract_parallel import Tract
from .vowels import mix_noise, resonator, vocal_tract, vowel_formants

VOT_S = {"pa": 0.012, "ta": 0.020, "ka": 0.032}
BURST_LEVEL = {"pa": 0.35, "ta": 0.55, "ka": 0.65}  # burst RMS / vowel RMS (-9 .. -4 dB)
CLOSURE_SHARE = 0.35  # closure / syllable interval
RAMP_S = 0.012  # voicing on/off ramps
ARTICULATIONS = ("a", "b")
LOCUS = {"pa": (0.5, 0.7, 0.9), "ta": (0.5, 1.35, 1.05), "ka": (0.5, 1.45, 0.85)}  # onset F1-F3 / vowel's


@dataclass(frozen=True)
class Articulation:
    """A speaker's way of articulating: the style and its own timing."""

    style: str = "a"  # "a" or "b" (module docstring)
    closure_share: float = CLOSURE_SHARE  # closure / syllable interval
    vot_scale: float = 1.0  # VOT relative to ``VOT_S``
    transition_s: float = 0.04  # "b": formant transition length
    burst_decay_s: float = 0.003  # "b": burst decay time constant


@dataclass(frozen=True)
class TrainSpec:
    """One DDK recording's articulation."""

    syllable: str  # "pa", "ta" or "ka"
    rate: float  # syllables per second (mean over the train)
    cv: float  # coefficient of variation of the syllable intervals
    imprecision: float  # probability that a syllable's consonant is imprecise
    fatigue: float  # relative slowing from the first to the last syllable
    seconds: float  # intended train length


def place_filter(x: np.ndarray, *, syllable: str, sample_rate: int) -> np.ndarray:
    """Burst/frication spectrum of the place of articulation: x [shape=(n,)] -> same."""
    nyquist = sample_rate / 2
    if syllable == "pa":
        y = resonator(x, freq=300.0, bandwidth=1800.0, sample_rate=sample_rate)
    elif syllable == "ta":
        y = resonator(x, freq=min(3500.0, 0.85 * nyquist), bandwidth=900.0, sample_rate=sample_rate)
        y = np.diff(y, prepend=0.0)
    else:
        y = resonator(x, freq=2000.0, bandwidth=350.0, sample_rate=sample_rate)
    return y / max(float(np.sqrt(np.mean(y**2))), 1e-12)


def envelope(t: np.ndarray, times: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Piecewise-linear envelope through breakpoints [shape=(k, m)] (row-major order) at ``t``."""
    xp = np.maximum.accumulate(times.ravel())  # guard against overlapping syllables
    return np.interp(t, xp, levels.ravel(), left=0.0, right=0.0)


def syllable_onsets(spec: TrainSpec, *, rng: np.random.Generator) -> np.ndarray:
    """Release times relative to the first release [shape=(k + 1,)]: k syllables, and a last,
    notional release that ends the k-th syllable's vowel."""
    count = max(4, int(round(spec.seconds * spec.rate)))
    sigma = np.sqrt(np.log1p(spec.cv**2))
    irregular = np.exp(sigma * rng.standard_normal(count))
    irregular /= irregular[:-1].mean()  # the realised mean rate is exactly ``rate``
    trend = 1.0 + spec.fatigue * np.linspace(-0.5, 0.5, count)
    intervals = irregular * trend / spec.rate
    return np.concatenate([[0.0], np.cumsum(intervals)])  # count + 1 boundaries


def ddk_train(
    spec: TrainSpec,
    *,
    source: SourceSpec,
    sex: str,
    tract_scale: float,
    centralisation: float,
    nasality: float,
    hnr_db: float,
    sample_rate: int,
    rng: np.random.Generator,
    tract: Tract | None = None,
    articulation: Articulation | None = None,
) -> tuple[np.ndarray, dict]:
    """A DDK train: float64 [shape=(n,)] with peak about 1, and facts about it.

    The facts: ``syllables`` (count), ``rate`` (realised syllables/s between the first and
    last release), ``first_s``/``last_s`` (first release, end of the last vowel).
    """
    art = articulation or Articulation()
    bounds = syllable_onsets(spec, rng=rng)
    k = len(bounds) - 1
    first_closure = rng.uniform(0.03, 0.06)
    release = first_closure + bounds[:-1]  # [shape=(k,)] burst times
    interval = np.diff(bounds)  # release i -> release i + 1 (the last one is notional)
    end = release + interval * (1.0 - art.closure_share * rng.uniform(0.85, 1.15, k))  # next closure starts
    duration = float(end[-1] + 0.03)
    n = int(round(duration * sample_rate))
    t = np.arange(n) / sample_rate

    position = np.arange(k) / max(k - 1, 1)
    p_bad = np.clip(spec.imprecision * (1.0 + spec.fatigue * position), 0, 1)
    bad = rng.random(k) < p_bad
    leak = np.where(bad, rng.uniform(0.10, 0.35, k), 0.0)
    fric = np.where(bad, rng.uniform(0.05, 0.25, k), 0.0)
    burst = np.where(bad, rng.uniform(0.15, 0.4, k), rng.uniform(0.7, 1.0, k))
    gain = rng.uniform(0.85, 1.15, k) * 10 ** (-6.0 * spec.fatigue * position / 20)
    vot = VOT_S[spec.syllable] * art.vot_scale * rng.uniform(0.8, 1.25, k)
    vowel_on = release + vot
    vowel_off = np.maximum(end - 0.005, vowel_on + 2 * RAMP_S)
    burst_s = rng.uniform(0.005, 0.012, k)

    # voicing: leak during the closure before syllable i, 1 (x gain) in its vowel
    v_t = np.stack([release - 1e-4, vowel_on, vowel_on + RAMP_S, vowel_off - RAMP_S, vowel_off], 1)
    v_a = np.stack([leak, leak, np.ones(k), np.ones(k), np.roll(leak, -1) * (np.arange(k) < k - 1)], 1)
    v_a[:, 2:4] *= gain[:, None]
    voice_env = envelope(t, v_t, v_a)
    # closure of syllable 0 has no leak before it (silence before the first syllable)
    voice_env[t < release[0] - 0.002] = 0.0
    # place noise: frication through the closure, then the burst
    clo_start = np.concatenate([[release[0] - 0.02], end[:-1]])
    burst = burst * BURST_LEVEL[spec.syllable]
    if art.style == "b":
        p_t, p_a, a_t, a_a = _style_b_envelopes(
            art, syllable=spec.syllable, clo_start=clo_start, release=release, vowel_on=vowel_on, rng=rng
        )
        p_a[:, 1:3] = fric[:, None]
        p_a[:, 3:] *= burst[:, None]
    else:
        p_t = np.stack(
            [clo_start, clo_start + 0.005, release - 0.0005, release, release + burst_s, release + burst_s + 0.003], 1
        )
        p_a = np.stack([np.zeros(k), fric, fric, burst, burst * 0.4, np.zeros(k)], 1)
        a_t = np.stack([release, release + 0.002, vowel_on, vowel_on + RAMP_S], 1)
        a_a = np.stack([np.zeros(k), np.full(k, 0.35), np.full(k, 0.25), np.zeros(k)], 1)
    place_env = envelope(t, p_t, p_a * gain[:, None])
    asp_env = envelope(t, a_t, a_a * gain[:, None])  # aspiration through the vocal tract during the VOT

    shape = 1.0 - 0.05 * t / duration  # declination
    src = glottal_source(n, spec=source, sample_rate=sample_rate, rng=rng, f0_shape=shape)
    formants = vowel_formants("a", sex=sex, tract_scale=tract_scale, centralisation=centralisation)
    tr = dict(nasality=nasality, sample_rate=sample_rate, tract=tract)
    harmonic = vocal_tract(src.excitation * voice_env, formants=formants, **tr)
    if art.style == "b":  # glide from the locus: cross-fade from the onset formants to the vowel's
        onset = [f * m for f, m in zip(formants, LOCUS[spec.syllable])] + formants[3:]
        depth = np.where(bad, rng.uniform(0.2, 0.5, k), rng.uniform(0.8, 1.0, k))
        w_t = np.stack([release - 1e-4, release, vowel_on, vowel_on + art.transition_s], 1)
        w = envelope(t, w_t, np.stack([np.zeros(k), depth, depth, np.zeros(k)], 1))
        harmonic = (1.0 - w) * harmonic + w * vocal_tract(src.excitation * voice_env, formants=onset, **tr)
    breath = vocal_tract(np.diff(rng.standard_normal(n + 1)) * voice_env, formants=formants, **tr)
    y = mix_noise(harmonic, breath, hnr_db=hnr_db)
    vowel = voice_env > 0.8 * gain.mean()
    level = float(np.sqrt(np.mean(y[vowel] ** 2))) if vowel.any() else 1.0  # RMS of the vowels
    asp = vocal_tract(rng.standard_normal(n), formants=formants, nasality=0.0, sample_rate=sample_rate, tract=tract)
    asp *= level / max(float(np.sqrt(np.mean(asp**2))), 1e-12)
    noise = place_filter(rng.standard_normal(n), syllable=spec.syllable, sample_rate=sample_rate)
    y = y + asp * asp_env + noise * level * place_env
    y /= max(float(np.abs(y).max()), 1e-12)
    facts = {
        "syllables": int(k),
        "rate": float((k - 1) / (release[-1] - release[0])),
        "first_s": float(release[0]),
        "last_s": float(vowel_off[-1]),
    }
    return y, facts


def _style_b_envelopes(
    art: Articulation,
    *,
    syllable: str,
    clo_start: np.ndarray,
    release: np.ndarray,
    vowel_on: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Breakpoints (times, levels) [shape=(k, m)] of style "b"'s place noise and aspiration.

    Place noise: frication (levels 1-2, filled in by the caller), an exponentially decaying burst
    and, for /k/, a second release (levels 3-8, scaled by the caller). Aspiration starts stronger
    than style "a"'s and fades into the voicing onset.
    """
    k = len(release)
    tau = art.burst_decay_s
    second = np.where(syllable == "ka", rng.uniform(0.005, 0.012, k), 4 * tau)
    again = 0.55 if syllable == "ka" else 0.0
    p_t = np.stack(
        [
            clo_start,
            clo_start + 0.005,
            release - 0.0005,
            release,
            release + tau,
            release + second - 1e-4,
            release + second,
            release + second + 2 * tau,
            release + second + 4 * tau,
        ],
        1,
    )
    tail = np.exp(-second / tau)  # what is left of the first burst when the second one comes
    p_a = np.stack(
        [
            np.zeros(k),
            *np.ones((3, k)),
            np.full(k, np.exp(-1.0)),
            tail,
            np.full(k, again),
            0.15 * again * np.ones(k),
            np.zeros(k),
        ],
        1,
    )
    a_t = np.stack([release, release + 0.001, vowel_on, vowel_on + RAMP_S], 1)
    a_a = np.stack([np.zeros(k), np.full(k, 0.4), np.full(k, 0.2), np.zeros(k)], 1)
    return p_t, p_a, a_t, a_a
