"""Background noises of several kinds, mixed at a set signal-to-noise ratio.

Kinds (``NOISE_TYPES``), each drawn from the caller's generator:

* ``white``: Gaussian white noise.
* ``pink``: 1/f noise (white noise shaped in the frequency domain).
* ``babble``: 4-7 other synthetic talkers (this package's own glottal source and formant
  tract, random vowels, F0s and syllable rhythms) summed: the murmur of people nearby.
* ``hum``: mains hum at 50 or 60 Hz with its harmonics (amplitudes falling as 1/k) and a little
  white noise: a charger or a poorly earthed device.
* ``cafe``: babble plus pink noise band-passed to 100-2000 Hz and random clatter (short decaying
  clicks of cutlery and cups).
* ``street``: brown noise low-passed at 300-800 Hz whose level swells and falls as vehicles pass
  (0.05-0.3 Hz).

``add_noise`` scales the noise to the requested SNR against the *active* signal: the power of
the 20 ms frames within 30 dB of the loudest one (so leading/trailing silence does not count),
over the noise's power across the whole signal.
"""

from __future__ import annotations

import numpy as np
from scipy.fft import next_fast_len
from scipy.signal import butter, fftconvolve, lfilter, sosfilt

from sand_gui.errors import UsageError, one_line

NOISE_TYPES = ("white", "pink", "babble", "hum", "cafe", "street")
BABBLE_SECONDS = 4.0  # each babble talker is rendered this long and looped with its own offset


def active_power(x: np.ndarray, *, sample_rate: int) -> float:
    """Mean power of the 20 ms frames of ``x`` [shape=(n,)] within 30 dB of the loudest frame."""
    frame = max(int(0.02 * sample_rate), 1)
    n = len(x) // frame
    if n == 0:
        return float(np.mean(x**2)) if len(x) else 0.0
    p = np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1)
    return float(np.mean(p[p >= p.max() * 1e-3])) if p.max() > 0 else 0.0


def pink(n: int, *, rng: np.random.Generator) -> np.ndarray:
    """1/f noise [shape=(n,)], unit variance."""
    m = next_fast_len(max(n, 1))
    spectrum = np.fft.rfft(rng.standard_normal(m))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum), dtype=float), 1.0))
    y = np.fft.irfft(spectrum, m)[:n]
    return y / max(float(np.std(y)), 1e-12)


def babble(n: int, *, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """4-7 synthetic talkers, each on its own syllable rhythm [shape=(n,)], unit variance."""
    from .source import SourceSpec, glottal_source
    from .vowels import raised_cosine, vocal_tract, vowel_formants

    m = min(n, int(BABBLE_SECONDS * sample_rate))
    y = np.zeros(n)
    for _ in range(int(rng.integers(4, 8))):
        sex = "M" if rng.random() < 0.5 else "F"
        spec = SourceSpec(
            f0_hz=float(rng.uniform(95, 140) if sex == "M" else rng.uniform(170, 240)),
            jitter=0.005,
            shimmer=0.03,
            tremor_hz=5.0,
            tremor_depth=0.003,
            breaks_per_s=0.0,
            creak_fraction=0.0,
            drift=0.08,
        )
        src = glottal_source(m, spec=spec, sample_rate=sample_rate, rng=rng).excitation
        vowels = rng.choice(list("aeiou"), size=3)
        seg = np.array_split(np.arange(m), 3)
        talk = np.concatenate(
            [
                vocal_tract(
                    src[s],
                    formants=vowel_formants(v, sex=sex, tract_scale=1.0, centralisation=0.3),
                    nasality=0.0,
                    sample_rate=sample_rate,
                )
                for v, s in zip(vowels, seg)
            ]
        )
        rate = rng.uniform(3.0, 6.0)
        syllables = np.maximum(np.sin(2 * np.pi * rate * np.arange(m) / sample_rate + rng.uniform(0, 6.3)), 0.0)
        ramp = raised_cosine(min(m, int(0.05 * sample_rate)))
        talk *= syllables
        talk[: len(ramp)] *= ramp
        talk /= max(float(np.std(talk)), 1e-12)
        y += np.resize(np.roll(talk, int(rng.integers(0, m))), n)
    return y / max(float(np.std(y)), 1e-12)


def hum(n: int, *, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Mains hum (50 or 60 Hz and harmonics below Nyquist, 1/k) plus -30 dB white noise [shape=(n,)]."""
    mains = 50.0 if rng.random() < 0.5 else 60.0
    t = np.arange(int(sample_rate)) / sample_rate  # one second holds a whole number of mains cycles
    k = np.arange(1, int(0.45 * sample_rate / mains) + 1)
    second = (np.sin(2 * np.pi * mains * np.outer(t, k) + rng.uniform(0, 2 * np.pi, len(k))) / k).sum(axis=1)
    y = np.resize(second / max(float(np.std(second)), 1e-12), n)
    return y + 0.03 * rng.standard_normal(n)


def cafe(n: int, *, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Babble, band-passed pink noise and clatter [shape=(n,)], unit variance."""
    band = sosfilt(
        butter(2, (100.0, min(2000.0, 0.45 * sample_rate)), "bandpass", fs=sample_rate, output="sos"), pink(n, rng=rng)
    )
    clicks = np.zeros(n)
    at = rng.integers(0, n, size=max(1, int(rng.uniform(0.5, 2.0) * n / sample_rate)))
    clicks[at] = rng.uniform(2.0, 8.0, len(at)) * rng.choice([-1.0, 1.0], len(at))
    kernel_n = max(int(0.02 * sample_rate), 2)
    kernel = rng.standard_normal(kernel_n) * np.exp(-np.arange(kernel_n) / (0.004 * sample_rate))
    clatter = fftconvolve(clicks, kernel)[:n]
    y = babble(n, sample_rate=sample_rate, rng=rng) + 0.7 * band / max(float(np.std(band)), 1e-12) + 0.3 * clatter
    return y / max(float(np.std(y)), 1e-12)


def street(n: int, *, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Low-passed brown noise with passing-vehicle swells [shape=(n,)], unit variance."""
    brown = lfilter([1.0], [1.0, -0.995], rng.standard_normal(n))
    y = sosfilt(butter(2, min(rng.uniform(300.0, 800.0), 0.45 * sample_rate), fs=sample_rate, output="sos"), brown)
    t = np.arange(n) / sample_rate
    swell = 1.0 + 0.6 * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t + rng.uniform(0, 2 * np.pi))
    y *= swell
    return y / max(float(np.std(y)), 1e-12)


def make_noise(kind: str, n: int, *, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Noise of ``kind`` (one of ``NOISE_TYPES``) [shape=(n,)], unit variance."""
    if kind == "white":
        return rng.standard_normal(n)
    if kind == "pink":
        return pink(n, rng=rng)
    makers = {"babble": babble, "hum": hum, "cafe": cafe, "street": street}
    if kind not in makers:
        raise UsageError(f"noise type {one_line(kind)!r} is unknown; use one of {', '.join(NOISE_TYPES)}.")
    return makers[kind](n, sample_rate=sample_rate, rng=rng)


def add_noise(x: np.ndarray, sample_rate: int, *, kind: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` [shape=(n,)] plus noise of ``kind`` at ``snr_db`` against its active power: -> [shape=(n,)]."""
    noise = make_noise(kind, len(x), sample_rate=sample_rate, rng=rng)
    p_noise = float(np.mean(noise**2)) if len(x) else 0.0
    if p_noise <= 0:
        return x.copy()
    return x + noise * np.sqrt(active_power(x, sample_rate=sample_rate) / p_noise * 10 ** (-snr_db / 10))
