"""Room reverberation from simulated rooms (pyroomacoustics' image-source method).

A shoebox room of the drawn size gets wall absorption from Sabine's formula for the drawn RT60
(``pyroomacoustics.inverse_sabine``); the talker and the phone are points inside it; the room
impulse response is computed by the image-source method (Allen & Berkley 1979) up to order
``MAX_ORDER`` (higher orders cost time and, in small rooms with long RT60, would be needed for
the whole tail: those tails come out somewhat shorter than asked) and convolved with the signal.
The response is scaled so that its direct path has unit gain, so the level stays that of the
talker at the phone and what reverberation adds is the room's tail. pyroomacoustics is imported
only here, on first use (``pip install pyroomacoustics``, the ``synth`` extra).

Allen JB, Berkley DA (1979). Image method for efficiently simulating small-room acoustics.
JASA 65(4):943-950.
Scheibler R, Bezzam E, Dokmanic I (2018). Pyroomacoustics: a Python package for audio room
simulations and array processing algorithms. Proc. ICASSP, 351-355.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import fftconvolve

from sand_gui.errors import UsageError

MAX_ORDER = 40


def room_impulse_response(
    *, room_dim: tuple[float, ...], rt60: float, source: tuple[float, ...], mic: tuple[float, ...], sample_rate: int
) -> np.ndarray:
    """The room's impulse response from ``source`` to ``mic`` (metres): float [shape=(m,)], direct path 1."""
    try:
        import pyroomacoustics as pra
    except ImportError:
        raise UsageError("room reverberation needs pyroomacoustics (pip install pyroomacoustics).") from None
    try:
        absorption, order = pra.inverse_sabine(float(rt60), list(room_dim))
    except ValueError:  # the RT60 is too short for so large a room: make the walls as absorbent as allowed
        absorption, order = 0.99, 2
    room = pra.ShoeBox(
        list(room_dim),
        fs=int(sample_rate),
        materials=pra.Material(float(absorption)),
        max_order=int(min(order, MAX_ORDER)),
        air_absorption=False,
    )
    room.add_source(list(source))
    room.add_microphone(list(mic))
    room.compute_rir()
    h = np.asarray(room.rir[0][0], dtype=np.float64)
    return h / max(float(np.abs(h).max()), 1e-12)


def reverberate(
    x: np.ndarray,
    sample_rate: int,
    *,
    room_dim: tuple[float, ...],
    rt60: float,
    source: tuple[float, ...],
    mic: tuple[float, ...],
) -> np.ndarray:
    """``x`` [shape=(n,)] as heard at ``mic`` in the room: -> [shape=(n,)] (the tail past n is cut)."""
    h = room_impulse_response(room_dim=room_dim, rt60=rt60, source=source, mic=mic, sample_rate=sample_rate)
    onset = int(np.argmax(np.abs(h)))  # drop the propagation delay so that the speech stays where it was
    return fftconvolve(x, h[onset:])[: len(x)]


def draw_room(rng: np.random.Generator) -> dict:
    """A random room: size 3-8 x 2.5-6 x 2.4-3.2 m, RT60 0.25-0.8 s, talker and phone 0.3-1.5 m apart."""
    dim = np.array([rng.uniform(3.0, 8.0), rng.uniform(2.5, 6.0), rng.uniform(2.4, 3.2)])
    source = rng.uniform([0.5, 0.5, 1.1], dim - [0.5, 0.5, 0.9])
    direction = rng.standard_normal(3)
    direction[2] *= 0.3
    mic = np.clip(source + rng.uniform(0.3, 1.5) * direction / np.linalg.norm(direction), 0.3, dim - 0.3)
    return {
        "room_dim": [round(float(v), 3) for v in dim],
        "rt60": round(float(rng.uniform(0.25, 0.8)), 3),
        "source": [round(float(v), 3) for v in source],
        "mic": [round(float(v), 3) for v in mic],
    }
