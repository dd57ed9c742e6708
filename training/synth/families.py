"""More than one way to make each ingredient: the families a patient's voice and phone are drawn from.

Per patient, each ingredient's family is drawn uniformly from the allowed ones (default: all),
from its own random stream, so restricting one ingredient does not change the others:

* source (``SOURCES``): ``rosenberg`` (``source.rosenberg``) or ``lf`` (``source_lf``,
  Liljencrants-Fant with Fant's Rd). Speaker variation: Rosenberg's speed quotient
  2.5 x e^(0.2 z) (1.5-4), or the LF speaker's Rd factor e^(0.15 z) (0.6-1.7; women x1.15, a
  laxer source, as women's voices are breathier on average - Mendoza et al. 1996; the factor is
  an assumption).
* tract (``TRACTS``): ``cascade`` (``vowels``) or ``parallel`` (``tract_parallel``).
  Speaker variation: every bandwidth x e^(0.15 z) (0.7-1.5) in both; in the parallel bank each
  formant's level deviates by N(0, 3 dB).
* articulation (``ARTICULATIONS``): DDK style ``a`` or ``b`` (``ddk``). Speaker variation in
  both: closure share 0.28-0.42, VOT x0.8-1.3; in ``b`` also the formant transition (25-60 ms)
  and the burst decay (2-5 ms).
* channel (``CHANNEL_FAMILIES``): ``channel_spec``'s families with their drawn settings.

Severity is never drawn here: every family reads the same per-class parameters of ``severity``.

Mendoza E, Valencia N, Munoz J, Trujillo H (1996). Differences in voice quality between men and
women: use of the long-term average spectrum (LTAS). J Voice 10(1):59-66.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from sand_gui.errors import UsageError, one_line

from .channel_spec import CHANNEL_FAMILIES, ChannelSpec, draw_channel_spec
from .ddk import ARTICULATIONS, Articulation
from .tract_parallel import TRACTS, Tract

SOURCES = ("rosenberg", "lf")
KINDS = {"sources": SOURCES, "tracts": TRACTS, "articulations": ARTICULATIONS, "channels": CHANNEL_FAMILIES}


@dataclass(frozen=True)
class Families:
    """The families allowed for each ingredient (a subset restricts the draw)."""

    sources: tuple[str, ...] = SOURCES
    tracts: tuple[str, ...] = TRACTS
    articulations: tuple[str, ...] = ARTICULATIONS
    channels: tuple[str, ...] = CHANNEL_FAMILIES

    def __post_init__(self):
        for kind, allowed in KINDS.items():
            chosen = getattr(self, kind)
            bad = [c for c in chosen if c not in allowed]
            if bad or not chosen:
                what = one_line(", ".join(map(str, bad))) if bad else "nothing"
                raise UsageError(f"{kind}: {what} is not a known family; use a subset of {', '.join(allowed)}.")
            object.__setattr__(self, kind, tuple(dict.fromkeys(str(c) for c in chosen)))

    def to_dict(self) -> dict[str, list[str]]:
        return {k: list(getattr(self, k)) for k in KINDS}


LEGACY = Families(("rosenberg",), ("cascade",), ("a",), ("smartphone",))  # generator 1.0's only families


def parse_families(text: str | None, *, kind: str) -> tuple[str, ...]:
    """A comma-separated list of ``kind`` families ("rosenberg,lf"); None or "all" means every one."""
    if text is None or text.strip().lower() == "all":
        return KINDS[kind]
    return tuple(t.strip() for t in text.split(",") if t.strip())


@dataclass(frozen=True)
class Voice:
    """One patient's families and speaker settings in each."""

    source: str
    speed_quotient: float
    rd_factor: float
    tract: Tract
    articulation: Articulation
    channel: ChannelSpec

    def families(self) -> dict[str, str]:
        """Family per ingredient, as recorded in ``synthetic.json`` and ``labels.csv``."""
        return {
            "source": self.source,
            "tract": self.tract.model,
            "articulation": self.articulation.style,
            "channel": self.channel.family,
        }

    def to_dict(self) -> dict:
        return {
            "source": {"model": self.source, "speed_quotient": self.speed_quotient, "rd_factor": self.rd_factor},
            "tract": {**asdict(self.tract), "gains_db": list(self.tract.gains_db)},
            "articulation": asdict(self.articulation),
            "channel": self.channel.to_dict(),
        }


def _pick(options: tuple[str, ...], rng: np.random.Generator) -> str:
    return options[int(rng.integers(len(options)))]


def draw_voice(*, seed: int, index: int, sex: str, families: Families, typical: bool = False) -> Voice:
    """Patient ``index``'s families and speaker settings, each ingredient from its own stream.

    ``typical`` keeps the families drawn but puts every speaker setting at its centre.
    """
    rs, rt, ra, rc = (np.random.default_rng([seed, index, 3, k]) for k in range(4))
    source = _pick(families.sources, rs)
    z = np.zeros(2) if typical else rs.standard_normal(2)
    speed_quotient = float(np.clip(2.5 * np.exp(0.2 * z[0]), 1.5, 4.0))
    rd_factor = float(np.clip(np.exp(0.15 * z[1]) * (1.15 if sex == "F" else 1.0), 0.6, 1.7))
    model = _pick(families.tracts, rt)
    zt = np.zeros(6) if typical else rt.standard_normal(6)
    tract = Tract(
        model=model,
        bandwidth_scale=float(np.clip(np.exp(0.15 * zt[0]), 0.7, 1.5)),
        gains_db=tuple(float(v) for v in np.round(3.0 * zt[1:], 3)),
    )
    style = _pick(families.articulations, ra)
    u = np.full(4, 0.5) if typical else ra.random(4)
    articulation = Articulation(
        style=style,
        closure_share=float(0.28 + 0.14 * u[0]),
        vot_scale=float(0.8 + 0.5 * u[1]),
        transition_s=float(0.025 + 0.035 * u[2]),
        burst_decay_s=float(0.002 + 0.003 * u[3]),
    )
    channel = draw_channel_spec(rc, families=families.channels)
    return Voice(source, speed_quotient, rd_factor, tract, articulation, channel)
