"""Band limits, automatic gain control and the faults of bad phones (float signals, full scale 1.0).

* ``band_limit``: an 8th-order Butterworth band-pass (causal, as a phone's filter is): the
  telephone band 300-3400 Hz (ITU-T G.712), or "wideband" 50-7000 Hz; an upper edge at or above
  0.45 x the sample rate leaves only the high-pass.
* ``agc``: an automatic gain control as phone apps and VoIP stacks run it: the level of 10 ms
  frames is followed with a fast attack (the gain falls within ``attack_ms`` when the voice gets
  louder) and a slow release (it rises over ``release_ms``), towards ``target_dbfs`` with at most
  ``max_gain_db`` of boost; frames below ``gate_dbfs`` hold the gain (no pumping of silence);
  a limiter then keeps peaks under ``limit_dbfs`` with a soft knee (tanh).
* Bad phones: ``clip`` (hard clipping ``drive_db`` above the peak's level), ``dropout``
  (lost packets/frames: ``rate`` gaps per second of 20-150 ms of silence), ``lowbit``
  (requantised to ``bits`` bits without dither), ``dc`` (a DC offset), ``resonance``
  (a strong, narrow resonance of a cheap housing: ``gain_db`` at ``freq`` with quality ``q``).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, lfilter, sosfilt

FRAME_S = 0.010


def highpass(x: np.ndarray, *, cutoff_hz: float, sample_rate: int) -> np.ndarray:
    """2nd-order Butterworth-like high-pass (RBJ biquad, Q = 0.707): x [shape=(n,)] -> same."""
    w = 2 * np.pi * cutoff_hz / sample_rate
    alpha = np.sin(w) / (2 * 0.7071)
    c = np.cos(w)
    b = np.array([(1 + c) / 2, -(1 + c), (1 + c) / 2])
    a = np.array([1 + alpha, -2 * c, 1 - alpha])
    return lfilter(b / a[0], a / a[0], x)


def peaking(x: np.ndarray, *, freq: float, gain_db: float, sample_rate: int, q: float = 1.0) -> np.ndarray:
    """Peaking equaliser (RBJ biquad): x [shape=(n,)] -> same."""
    amp = 10 ** (gain_db / 40)
    w = 2 * np.pi * min(freq, 0.45 * sample_rate) / sample_rate
    alpha = np.sin(w) / (2 * q)
    c = np.cos(w)
    b = np.array([1 + alpha * amp, -2 * c, 1 - alpha * amp])
    a = np.array([1 + alpha / amp, -2 * c, 1 - alpha / amp])
    return lfilter(b / a[0], a / a[0], x)


def band_limit(x: np.ndarray, sample_rate: int, *, low_hz: float, high_hz: float) -> np.ndarray:
    """``x`` [shape=(n,)] through an 8th-order Butterworth band-pass ``low_hz``-``high_hz``: -> same shape."""
    if high_hz >= 0.45 * sample_rate:
        sos = butter(8, low_hz, "highpass", fs=sample_rate, output="sos")
    else:
        sos = butter(8, (low_hz, high_hz), "bandpass", fs=sample_rate, output="sos")
    return sosfilt(sos, x)


def agc(
    x: np.ndarray,
    sample_rate: int,
    *,
    target_dbfs: float = -20.0,
    attack_ms: float = 10.0,
    release_ms: float = 400.0,
    max_gain_db: float = 24.0,
    gate_dbfs: float = -55.0,
    limit_dbfs: float = -1.0,
) -> np.ndarray:
    """``x`` [shape=(n,)] with its level steered to ``target_dbfs`` (RMS per frame): -> same shape."""
    frame = max(int(FRAME_S * sample_rate), 1)
    n_frames = -(-len(x) // frame)
    if n_frames == 0:
        return x.copy()
    padded = np.pad(x, (0, n_frames * frame - len(x)))
    level = 10 * np.log10(np.mean(padded.reshape(n_frames, frame) ** 2, axis=1) + 1e-12)
    wanted = np.minimum(target_dbfs - level, max_gain_db)
    attack = 1.0 - np.exp(-FRAME_S * 1000.0 / max(attack_ms, 1e-3))
    release = 1.0 - np.exp(-FRAME_S * 1000.0 / max(release_ms, 1e-3))
    gain_db = np.empty(n_frames)
    g = 0.0
    for i in range(n_frames):  # a few thousand frames: a plain loop is fast enough and reads as the algorithm
        if level[i] > gate_dbfs:
            g += (wanted[i] - g) * (attack if wanted[i] < g else release)
        gain_db[i] = g
    centres = (np.arange(n_frames) + 0.5) * frame
    y = x * 10 ** (np.interp(np.arange(len(x)), centres, gain_db) / 20)
    ceiling = 10 ** (limit_dbfs / 20)
    over = np.abs(y) > 0.5 * ceiling
    knee = 0.5 * ceiling * (1.0 + np.tanh((np.abs(y) - 0.5 * ceiling) / (0.5 * ceiling)))
    return np.where(over, np.sign(y) * knee, y)


def clip(x: np.ndarray, *, drive_db: float) -> np.ndarray:
    """Hard clipping at the peak's level minus ``drive_db``: [shape=(n,)] -> same shape."""
    level = float(np.abs(x).max()) * 10 ** (-drive_db / 20) if len(x) else 1.0
    return np.clip(x, -level, level)


def dropout(x: np.ndarray, sample_rate: int, *, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` [shape=(n,)] with about ``rate`` gaps per second of 20-150 ms silenced: -> same shape."""
    y = x.copy()
    count = rng.poisson(rate * len(x) / sample_rate)
    starts = rng.integers(0, max(len(x), 1), size=count)
    lengths = (rng.uniform(0.02, 0.15, size=count) * sample_rate).astype(int)
    for s, m in zip(starts, lengths):
        y[s : s + m] = 0.0
    return y


def lowbit(x: np.ndarray, *, bits: int) -> np.ndarray:
    """``x`` [shape=(n,)] requantised to ``bits`` bits (full scale 1.0), no dither: -> same shape."""
    step = 2.0 ** (1 - int(bits))
    return np.clip(np.round(x / step) * step, -1.0, 1.0 - step)


def dc(x: np.ndarray, *, offset: float) -> np.ndarray:
    """``x`` [shape=(n,)] plus a constant ``offset`` (fraction of full scale)."""
    return x + offset


def resonance(x: np.ndarray, sample_rate: int, *, freq: float, gain_db: float, q: float) -> np.ndarray:
    """``x`` [shape=(n,)] through a narrow peaking filter (RBJ): -> same shape."""
    return peaking(x, freq=freq, gain_db=gain_db, sample_rate=sample_rate, q=q)
