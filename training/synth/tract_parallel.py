"""The second vocal-tract family: parallel formant resonators (Klatt 1980's parallel branch).

A cascade synthesiser (``vowels.vocal_tract``) puts the formant resonators in series, so the
formant levels and the valleys between them follow from the frequencies and bandwidths alone.
A parallel synthesiser feeds every resonator with the same excitation, weights each output by
its own amplitude and sums them with alternating signs (Klatt 1980, Holmes 1983), so each
formant's level is a free parameter. Here each branch is a band-pass resonator (zeros at 0 Hz
and at Nyquist), so the spectrum below F1 and near Nyquist falls away instead of staying flat
as the cascade's does; the amplitudes start from the cascade's level at each formant (so both
families say the same vowel) and each speaker deviates from it by a few dB per formant
(``Tract.gains_db``); both families also scale the bandwidths per speaker
(``Tract.bandwidth_scale``). Hypernasality reads the same ``nasality`` parameter: F1 rises and
widens as in the cascade, and a nasal formant near 270 Hz is added as its own branch with an
amplitude growing with the coupling (the parallel synthesiser's nasal formant, Klatt 1980).

Klatt DH (1980). Software for a cascade/parallel formant synthesizer. JASA 67(3):971-995.
Holmes JN (1983). Formant synthesizers: cascade or parallel? Speech Communication 2:251-273.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

TRACTS = ("cascade", "parallel")
NASAL_FORMANT_HZ = 270.0


@dataclass(frozen=True)
class Tract:
    """A speaker's vocal-tract family and its own deviations from the textbook values."""

    model: str = "cascade"  # "cascade" or "parallel"
    bandwidth_scale: float = 1.0  # every formant bandwidth times this
    gains_db: tuple[float, ...] = (0.0, 0.0, 0.0, 0.0, 0.0)  # parallel only: level of F1..F5 re the cascade's


def resonance(freq: float, bandwidth: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of Klatt's second-order resonator with unit gain at 0 Hz."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    c = 2 * r * np.cos(2 * np.pi * freq / sample_rate)
    return np.array([1.0 - c + r * r]), np.array([1.0, -c, r * r])


def magnitude(b: np.ndarray, a: np.ndarray, freq: float, sample_rate: int) -> float:
    """|H(f)| of a filter (b, a) at ``freq`` Hz."""
    z = np.exp(-1j * 2 * np.pi * freq / sample_rate * np.arange(max(len(a), len(b))))
    return float(abs(np.dot(b, z[: len(b)])) / max(abs(np.dot(a, z[: len(a)])), 1e-12))


def parallel_tract(
    x: np.ndarray, *, resonances: list[tuple[float, float]], nasality: float, sample_rate: int, tract: Tract
) -> np.ndarray:
    """Filter an excitation [shape=(n,)] through parallel resonators ``(freq, bandwidth)``: -> same shape.

    Each branch is a band-pass resonator whose amplitude is the cascade's level at its formant times
    the speaker's deviation; signs alternate (+F1 -F2 +F3 ...).
    """
    filters = [resonance(f, b, sample_rate) for f, b in resonances]
    y = np.zeros(len(x))
    for i, ((f, _), (_, a)) in enumerate(zip(resonances, filters)):
        cascade_level = np.prod([magnitude(bb, aa, f, sample_rate) for bb, aa in filters])
        b = np.array([1.0, 0.0, -1.0])  # band-pass branch
        gain = cascade_level / max(magnitude(b, a, f, sample_rate), 1e-12)
        gain *= 10 ** (tract.gains_db[i % len(tract.gains_db)] / 20) * (-1) ** i
        y += gain * lfilter(b, a, x)
    if nasality > 0:
        b, a = resonance(NASAL_FORMANT_HZ, 100.0 * tract.bandwidth_scale, sample_rate)
        level = np.prod([magnitude(bb, aa, NASAL_FORMANT_HZ, sample_rate) for bb, aa in filters])
        y += 0.8 * nasality * level / max(magnitude(b, a, NASAL_FORMANT_HZ, sample_rate), 1e-12) * lfilter(b, a, x)
    return y
