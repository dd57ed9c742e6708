"""Channel families: what happens between the talker and the file, drawn per patient.

``draw_channel_spec(rng, families=...)`` picks one family uniformly among ``families`` and draws
its settings; ``apply_channel(x, sample_rate, channel=spec, rng=rng)`` applies them, in order, to
a float signal (full scale 1.0). The random parts that are not settings (noise samples, dropout
positions) come from ``rng``, so one spec and one seed give one output. The generator applies a
patient's spec to its eight recordings (one phone per patient) after the smartphone capture of
``channel`` and before the 16-bit quantisation; training-time augmentation calls the same two
functions on waveforms.

Families (``CHANNEL_FAMILIES``) and their effects (``Effect.kind``, settings drawn uniformly):

* ``smartphone``: nothing more than ``channel``'s phone (room tone at 34-50 dB SNR, microphone
  colouring, gain, light clipping in 4 %).
* ``telephone``: ``band`` 250-350 .. 3200-3500 Hz (the telephone band) -> ``agc`` -> ``codec``
  G.711 mu-law or A-law (30 % each), GSM 06.10 (20 %) or G.726 at 16/24/32 kbit/s (20 %).
* ``voip``: ``noise`` white or pink at 25-40 dB -> ``band`` 50-7000 Hz -> ``agc`` -> ``codec``
  Opus at 6/8/12/16 kbit/s.
* ``room``: ``reverb`` (a simulated room, ``rooms``: 3-8 m, RT60 0.25-0.8 s, phone 0.3-1.5 m
  away) -> ``noise`` babble or cafe at 15-30 dB.
* ``noisy``: ``noise`` of any type (``noise.NOISE_TYPES``) at 5-20 dB SNR (hum: 20-35 dB; a
  louder hum masks the voice's periodicity and the app rightly refuses the file as a hum).
* ``badphone``: ``band`` 150-400 .. 2800-3600 Hz and one or two faults among ``clip`` (3-12 dB
  of overdrive), ``dropout`` (0.3-2 gaps/s), ``lowbit`` (6-10 bits), ``dc`` (offset 2-10 % of
  full scale) and ``resonance`` (+8-15 dB at 600-3000 Hz, Q 3-8).

AGC settings: target -24..-16 dBFS, attack 5-20 ms, release 200-800 ms, at most 12-30 dB of gain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sand_gui.errors import UsageError, one_line

from . import dynamics
from .codecs import codec_roundtrip
from .noise import NOISE_TYPES, add_noise
from .rooms import draw_room, reverberate

CHANNEL_FAMILIES = ("smartphone", "telephone", "voip", "room", "noisy", "badphone")
FAULTS = ("clip", "dropout", "lowbit", "dc", "resonance")
HUM_EXTRA_DB = 15.0  # a hum 5-20 dB under the voice swamps its periodicity; the app refuses such files as hum


@dataclass(frozen=True)
class Effect:
    """One step of a channel: its kind and its settings (JSON-ready numbers and strings)."""

    kind: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ChannelSpec:
    """A patient's channel: its family and the effects applied in order."""

    family: str = "smartphone"
    effects: tuple[Effect, ...] = ()

    def to_dict(self) -> dict:
        return {"family": self.family, "effects": [{"kind": e.kind, **e.params} for e in self.effects]}


def _u(rng: np.random.Generator, low: float, high: float, digits: int = 3) -> float:
    return round(float(rng.uniform(low, high)), digits)


def _agc(rng: np.random.Generator) -> Effect:
    return Effect(
        "agc",
        {
            "target_dbfs": _u(rng, -24, -16),
            "attack_ms": _u(rng, 5, 20),
            "release_ms": _u(rng, 200, 800),
            "max_gain_db": _u(rng, 12, 30),
        },
    )


def _fault(kind: str, rng: np.random.Generator) -> Effect:
    if kind == "clip":
        return Effect("clip", {"drive_db": _u(rng, 3, 12)})
    if kind == "dropout":
        return Effect("dropout", {"rate": _u(rng, 0.3, 2.0)})
    if kind == "lowbit":
        return Effect("lowbit", {"bits": int(rng.integers(6, 11))})
    if kind == "dc":
        return Effect("dc", {"offset": round(float(rng.choice([-1, 1]) * rng.uniform(0.02, 0.1)), 4)})
    return Effect("resonance", {"freq": _u(rng, 600, 3000, 1), "gain_db": _u(rng, 8, 15), "q": _u(rng, 3, 8)})


def draw_channel_spec(rng: np.random.Generator, *, families: tuple[str, ...] = CHANNEL_FAMILIES) -> ChannelSpec:
    """One channel: a family drawn uniformly from ``families`` and its settings (module docstring)."""
    unknown = [f for f in families if f not in CHANNEL_FAMILIES]
    if unknown or not families:
        raise UsageError(
            f"channel family {one_line(', '.join(unknown) or 'none')!r} is unknown; use {', '.join(CHANNEL_FAMILIES)}."
        )
    family = str(families[int(rng.integers(len(families)))])
    if family == "telephone":
        codec = str(rng.choice(["g711u", "g711a", "gsm", "g726"], p=[0.3, 0.3, 0.2, 0.2]))
        rate = int(rng.choice([16000, 24000, 32000]))  # drawn for every codec: the stream stays the same
        effects = (
            Effect("band", {"low_hz": _u(rng, 250, 350, 1), "high_hz": _u(rng, 3200, 3500, 1)}),
            _agc(rng),
            Effect("codec", {"codec": codec, **({"bitrate": rate} if codec == "g726" else {})}),
        )
    elif family == "voip":
        effects = (
            Effect("noise", {"type": str(rng.choice(["white", "pink"])), "snr_db": _u(rng, 25, 40)}),
            Effect("band", {"low_hz": 50.0, "high_hz": 7000.0}),
            _agc(rng),
            Effect("codec", {"codec": "opus", "bitrate": int(rng.choice([6000, 8000, 12000, 16000]))}),
        )
    elif family == "room":
        effects = (
            Effect("reverb", draw_room(rng)),
            Effect("noise", {"type": str(rng.choice(["babble", "cafe"])), "snr_db": _u(rng, 15, 30)}),
        )
    elif family == "noisy":
        kind = str(rng.choice(NOISE_TYPES))
        snr = _u(rng, 5, 20) + (HUM_EXTRA_DB if kind == "hum" else 0.0)
        effects = (Effect("noise", {"type": kind, "snr_db": round(snr, 3)}),)
    elif family == "badphone":
        faults = rng.choice(FAULTS, size=int(rng.integers(1, 3)), replace=False)
        band = Effect("band", {"low_hz": _u(rng, 150, 400, 1), "high_hz": _u(rng, 2800, 3600, 1)})
        effects = (band, *(_fault(str(k), rng) for k in faults))
    else:
        effects = ()
    return ChannelSpec(family, effects)


def apply_effect(x: np.ndarray, sample_rate: int, *, effect: Effect, rng: np.random.Generator) -> np.ndarray:
    """One effect on a float signal [shape=(n,)]: -> [shape=(n,)]."""
    p = effect.params
    k = effect.kind
    if k == "band":
        return dynamics.band_limit(x, sample_rate, low_hz=p["low_hz"], high_hz=p["high_hz"])
    if k == "agc":
        return dynamics.agc(x, sample_rate, **p)
    if k == "codec":
        return codec_roundtrip(x, sample_rate, codec=p["codec"], bitrate=p.get("bitrate", 0))
    if k == "noise":
        return add_noise(x, sample_rate, kind=p["type"], snr_db=p["snr_db"], rng=rng)
    if k == "reverb":
        return reverberate(x, sample_rate, room_dim=p["room_dim"], rt60=p["rt60"], source=p["source"], mic=p["mic"])
    if k == "clip":
        return dynamics.clip(x, drive_db=p["drive_db"])
    if k == "dropout":
        return dynamics.dropout(x, sample_rate, rate=p["rate"], rng=rng)
    if k == "lowbit":
        return dynamics.lowbit(x, bits=p["bits"])
    if k == "dc":
        return dynamics.dc(x, offset=p["offset"])
    if k == "resonance":
        return dynamics.resonance(x, sample_rate, freq=p["freq"], gain_db=p["gain_db"], q=p["q"])
    raise UsageError(f"channel effect {one_line(k)!r} is unknown.")


def apply_channel(x: np.ndarray, sample_rate: int, *, channel: ChannelSpec, rng: np.random.Generator) -> np.ndarray:
    """``x`` (float, full scale 1.0) [shape=(n,)] through every effect of ``channel`` in order: -> [shape=(n,)]."""
    y = np.asarray(x, dtype=np.float64)
    for effect in channel.effects:
        y = apply_effect(y, sample_rate, effect=effect, rng=rng)
    return y
