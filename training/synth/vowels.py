"""Vocal tract: cascade formant resonators, a nasal pole-zero pair, and sustained vowels.

(The second tract family, parallel resonators, is ``tract_parallel``; ``vocal_tract`` picks one.)

Formants F1-F3 are the average values Hillenbrand et al. (1995, Table V) measured for men
and women, for the nearest American English vowels: /a/ = "hod", /e/ = "hayed",
/i/ = "heed", /o/ = "hoed", /u/ = "who'd". F4/F5 and the bandwidths are typical values of a
cascade synthesiser (Klatt 1980). Each speaker scales them by a vocal-tract factor
(s.d. 4 %); dysarthria centralises them toward the speaker's schwa (reduced vowel space in
ALS: Weismer et al. 2001).

Hypernasality couples a nasal pole-zero pair (Klatt 1980): with no coupling the nasal pole and
zero coincide at 270 Hz and cancel; coupling moves the zero up (to ~750 Hz at full coupling),
leaving a low nasal resonance, and raises and widens F1 - the flattened, murmur-like low
spectrum of a hypernasal vowel.

Hillenbrand J, Getty LA, Clark MJ, Wheeler K (1995). Acoustic characteristics of American
English vowels. JASA 97(5):3099-3111.
Klatt DH (1980). Software for a cascade/parallel formant synthesizer. JASA 67(3):971-995.
Weismer G, Jeng JY, Laures JS, Kent RD, Kent JF (2001). Acoustic and intelligibility
characteristics of sentence production in neurogenic speech disorders. Folia Phoniatr
Logop 53(1):1-18.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from .source import SourceSpec, glottal_source
from .tract_parallel import Tract, parallel_tract

# (F1, F2, F3) in Hz, Hillenbrand et al. (1995) Table V, men / women.
HILLENBRAND = {
    "M": {
        "a": (768, 1333, 2522),
        "e": (476, 2089, 2691),
        "i": (342, 2322, 3000),
        "o": (497, 910, 2459),
        "u": (378, 997, 2343),
    },
    "F": {
        "a": (936, 1551, 2815),
        "e": (536, 2530, 3047),
        "i": (437, 2761, 3372),
        "o": (555, 1035, 2828),
        "u": (459, 1105, 2735),
    },
}
HIGHER_FORMANTS = {"M": (3500.0, 4500.0), "F": (4000.0, 5000.0)}  # F4, F5 (Klatt-style defaults)
BANDWIDTHS = (80.0, 100.0, 150.0, 250.0, 300.0)  # B1..B5 in Hz
SCHWA = {"M": (500.0, 1500.0, 2500.0), "F": (580.0, 1700.0, 2850.0)}  # uniform-tube targets
NASAL_POLE_HZ = 270.0
NASAL_ZERO_SHIFT_HZ = 480.0  # zero moves from 270 Hz to 750 Hz at full coupling


def resonator(x: np.ndarray, *, freq: float, bandwidth: float, sample_rate: int) -> np.ndarray:
    """Second-order resonance with unit gain at 0 Hz (Klatt 1980): x [shape=(n,)] -> same."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    c = 2 * r * np.cos(2 * np.pi * freq / sample_rate)
    a = [1.0, -c, r * r]
    return lfilter([1.0 - c + r * r], a, x)


def antiresonator(x: np.ndarray, *, freq: float, bandwidth: float, sample_rate: int) -> np.ndarray:
    """Second-order zero pair with unit gain at 0 Hz: x [shape=(n,)] -> same."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    c = 2 * r * np.cos(2 * np.pi * freq / sample_rate)
    return lfilter(np.array([1.0, -c, r * r]) / (1.0 - c + r * r), [1.0], x)


def vowel_formants(vowel: str, *, sex: str, tract_scale: float, centralisation: float) -> list[float]:
    """F1..F5 in Hz of ``vowel`` for a speaker, pulled ``centralisation`` of the way to schwa."""
    f = np.array(HILLENBRAND[sex][vowel], dtype=float)
    f = f + centralisation * (np.array(SCHWA[sex]) - f)
    return [float(v) / tract_scale for v in (*f, *HIGHER_FORMANTS[sex])]


def vocal_tract(
    x: np.ndarray, *, formants: list[float], nasality: float, sample_rate: int, tract: Tract | None = None
) -> np.ndarray:
    """Filter an excitation [shape=(n,)] through the formants and the nasal coupling.

    ``tract`` picks the family (cascade, the default, or ``tract_parallel``'s parallel bank) and the
    speaker's bandwidth scale; both read the same formants and nasality.
    """
    tract = tract or Tract()
    nyquist = sample_rate / 2
    resonances = []
    for i, (f, b) in enumerate(zip(formants, BANDWIDTHS)):
        if i == 0:
            f, b = f + 60.0 * nasality, b + 120.0 * nasality
        b *= tract.bandwidth_scale
        if f + b / 2 < 0.95 * nyquist:
            resonances.append((f, b))
    if tract.model == "parallel":
        return parallel_tract(x, resonances=resonances, nasality=nasality, sample_rate=sample_rate, tract=tract)
    y = x
    for f, b in resonances:
        y = resonator(y, freq=f, bandwidth=b, sample_rate=sample_rate)
    if nasality > 0:
        y = resonator(y, freq=NASAL_POLE_HZ, bandwidth=100.0, sample_rate=sample_rate)
        y = antiresonator(
            y, freq=NASAL_POLE_HZ + NASAL_ZERO_SHIFT_HZ * nasality, bandwidth=100.0, sample_rate=sample_rate
        )
    return y


def raised_cosine(n: int) -> np.ndarray:
    """A 0 -> 1 raised-cosine ramp of ``n`` samples [shape=(n,)]."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))


def mix_noise(harmonic: np.ndarray, noise: np.ndarray, *, hnr_db: float) -> np.ndarray:
    """``harmonic + noise`` with the noise scaled so that their energy ratio is ``hnr_db``."""
    ph, pn = float(np.mean(harmonic**2)), float(np.mean(noise**2))
    if pn <= 0 or ph <= 0:
        return harmonic
    return harmonic + noise * np.sqrt(ph / pn * 10 ** (-hnr_db / 10))


def sustained_vowel(
    vowel: str,
    *,
    seconds: float,
    source: SourceSpec,
    sex: str,
    tract_scale: float,
    centralisation: float,
    nasality: float,
    hnr_db: float,
    decline: float,
    sample_rate: int,
    rng: np.random.Generator,
    tract: Tract | None = None,
) -> np.ndarray:
    """A sustained vowel of ``seconds`` s: float64 [shape=(n,)], peak about 1.

    Natural onset (50-120 ms rise, F0 rising 4 % into its target) and decay (120-300 ms fall,
    F0 falling 6 %); the level declines by ``decline`` (fraction) over the vowel as breath runs out.
    """
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    on, off = rng.uniform(0.05, 0.12), rng.uniform(0.12, 0.30)
    shape = 1.0 - 0.04 * np.exp(-t / 0.08) - 0.06 * np.clip((t - (seconds - off)) / off, 0, 1)
    src = glottal_source(n, spec=source, sample_rate=sample_rate, rng=rng, f0_shape=shape)
    env = np.ones(n)
    n_on, n_off = int(on * sample_rate), int(off * sample_rate)
    env[:n_on] = raised_cosine(n_on)
    env[n - n_off :] = raised_cosine(n_off)[::-1]
    env *= 1.0 - decline * t / max(seconds, 1e-9)
    formants = vowel_formants(vowel, sex=sex, tract_scale=tract_scale, centralisation=centralisation)
    harmonic = vocal_tract(
        src.excitation * env, formants=formants, nasality=nasality, sample_rate=sample_rate, tract=tract
    )
    pulsatile = 0.5 + src.flow / max(float(src.flow.max()), 1e-9)
    noise = np.diff(rng.standard_normal(n + 1)) * env * np.where(src.voiced, pulsatile, 1.0)  # radiated
    noise = vocal_tract(noise, formants=formants, nasality=nasality, sample_rate=sample_rate, tract=tract)
    y = mix_noise(harmonic, noise, hnr_db=hnr_db)
    return y / max(float(np.abs(y).max()), 1e-12)
