"""The Liljencrants-Fant (LF) glottal pulse, shaped by one number, Rd: the second source family.

The LF model (Fant, Liljencrants & Lin 1985) describes the glottal flow *derivative* of one
period (time normalised to the period, T0 = 1): a growing sinusoid ``E0 e^(alpha t) sin(pi t / tp)``
up to the main excitation at ``te``, then an exponential return phase
``-(Ee / (eps ta)) (e^(-eps (t - te)) - e^(-eps (1 - te)))`` that closes the glottis by the end of
the period; ``eps`` solves ``eps ta = 1 - e^(-eps (1 - te))`` and ``alpha`` makes the flow return
to zero (the derivative integrates to 0 over the period). Unlike Rosenberg's pulse, whose closure
is abrupt, the return phase ``ta`` softens the closure and steepens the spectral tilt: the two
families differ where spectrogram models look (H1-H2, high-frequency slope).

Fant (1995) reduced the shape to one parameter, Rd (0.3 pressed .. 2.7 lax/breathy), with the
regressions ``Ra = (-1 + 4.8 Rd) / 100``, ``Rk = (22.4 + 11.8 Rd) / 100``,
``Rg = Rk / (4 (0.11 Rd / (0.5 + 1.2 Rk) - Ra))``, whence ``tp = 1 / (2 Rg)``, ``te = tp (1 + Rk)``,
``ta = Ra``. Severity reaches this family through the same ``open_quotient`` row of the severity
table as Rosenberg's: Rd is chosen so that ``te`` (the open phase up to the excitation) equals the
open quotient (0.55 healthy -> 0.75 severe, i.e. Rd about 0.75 -> 1.5: laxer, breathier), then
multiplied by the speaker's own factor. Tables are solved once per Rd (rounded to 0.01) and looked
up per sample, so the LF source costs what the Rosenberg one does.

Fant G, Liljencrants J, Lin Q (1985). A four-parameter model of glottal flow. STL-QPSR 26(4):1-13.
Fant G (1995). The LF-model revisited. Transformations and frequency domain analysis.
STL-QPSR 36(2-3):119-156.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

RD_RANGE = (0.3, 2.7)
TABLE_SIZE = 2048
CREAK_RD = 0.45  # pressed, short open phase


def lf_timing(rd: float) -> tuple[float, float, float]:
    """``(tp, te, ta)`` as fractions of the period for a given Rd (Fant 1995 regressions)."""
    rd = float(np.clip(rd, *RD_RANGE))
    ra = (-1.0 + 4.8 * rd) / 100.0
    rk = (22.4 + 11.8 * rd) / 100.0
    rg = 0.25 * rk / (0.11 * rd / (0.5 + 1.2 * rk) - ra)
    tp = 1.0 / (2.0 * rg)
    return tp, tp * (1.0 + rk), max(ra, 1e-4)


def _derivative(t: np.ndarray, *, alpha: float, tp: float, te: float, ta: float, eps: float) -> np.ndarray:
    open_ = np.exp(alpha * t) * np.sin(np.pi * t / tp)
    ee = -np.exp(alpha * te) * np.sin(np.pi * te / tp)
    ret = -(ee / (eps * ta)) * (np.exp(-eps * (t - te)) - np.exp(-eps * (1.0 - te)))
    return np.where(t <= te, open_, ret)


@lru_cache(maxsize=512)
def _table(rd_centi: int) -> np.ndarray:
    """Glottal flow of one period on ``TABLE_SIZE + 1`` points, peak 1, zero at both ends."""
    tp, te, ta = lf_timing(rd_centi / 100.0)
    eps = 1.0 / ta
    for _ in range(60):  # fixed point of eps ta = 1 - exp(-eps (1 - te)); converges fast for ta << 1 - te
        eps = (1.0 - np.exp(-eps * (1.0 - te))) / ta
    t = (np.arange(TABLE_SIZE) + 0.5) / TABLE_SIZE
    lo, hi = -50.0, 200.0  # the net area falls as alpha grows (the negative lobe is weighted up)
    for _ in range(60):
        alpha = 0.5 * (lo + hi)
        if _derivative(t, alpha=alpha, tp=tp, te=te, ta=ta, eps=eps).mean() > 0:
            lo = alpha
        else:
            hi = alpha
    flow = np.concatenate([[0.0], np.cumsum(_derivative(t, alpha=alpha, tp=tp, te=te, ta=ta, eps=eps))])
    flow -= np.linspace(0.0, flow[-1], len(flow))  # remove the bisection's tiny residual
    flow = np.maximum(flow, 0.0)
    return flow / max(float(flow.max()), 1e-12)


def lf_flow(pos: np.ndarray, *, rd: float) -> np.ndarray:
    """LF glottal flow at position in the period ``pos`` in [0, 1] -> flow in [0, 1].

    ``pos`` [shape=(n,)] -> [shape=(n,)]; Rd is rounded to 0.01 (the tables are cached).
    """
    table = _table(int(round(float(np.clip(rd, *RD_RANGE)) * 100)))
    return np.interp(pos, np.linspace(0.0, 1.0, len(table)), table)


_RD_GRID = np.linspace(0.3, 2.0, 172)  # te rises monotonically with Rd up to about 2.0
_TE_GRID = np.array([lf_timing(r)[1] for r in _RD_GRID])


def rd_for_open_quotient(open_quotient: float) -> float:
    """The Rd whose excitation instant ``te`` equals ``open_quotient`` (clipped to 0.35-0.78)."""
    return float(np.interp(open_quotient, _TE_GRID, _RD_GRID))
