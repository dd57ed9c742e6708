"""A synthetic dysarthric-speech corpus in the SAND layout: SIMULATED speech, never patient data.

A source-filter simulation (``source`` / ``source_lf`` glottal pulses -> ``vowels`` /
``tract_parallel`` vocal tract, ``ddk`` articulation -> ``channel`` smartphone recording and a
``channel_spec`` family: codecs, rooms, noise, AGC, band limits, bad phones) driven by
per-class parameter distributions (``severity``, with the published values they follow), with
the families of each ingredient drawn per patient (``families``), rendered by ``render`` and
written by ``corpus`` exactly as the SAND challenge ships Task 1. Use it to train, test and
demonstrate the pipeline; a score on it says nothing about patients.

    generate_corpus(out, patients=300, seed=0)          # the whole layout under out/
    generate_corpus(out, patients=300, seed=0, families=Families(channels=("room", "noisy")))
    write_demo(out)                                      # the five demo patients ID901..ID905
    apply_channel(x, 8000, channel=draw_channel_spec(rng), rng=rng)   # augmentation
"""

from .channel_spec import CHANNEL_FAMILIES, ChannelSpec, Effect, apply_channel, draw_channel_spec
from .corpus import (
    GENERATOR_VERSION,
    PRIORS,
    CorpusSummary,
    class_counts,
    generate_corpus,
    largest_remainder,
    plan_patients,
)
from .demo import DEMO_SEED, write_demo
from .families import LEGACY, Families

__all__ = [
    "CHANNEL_FAMILIES",
    "ChannelSpec",
    "Effect",
    "Families",
    "LEGACY",
    "apply_channel",
    "draw_channel_spec",
    "GENERATOR_VERSION",
    "PRIORS",
    "CorpusSummary",
    "DEMO_SEED",
    "class_counts",
    "generate_corpus",
    "largest_remainder",
    "plan_patients",
    "write_demo",
]
