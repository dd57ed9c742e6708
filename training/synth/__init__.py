"""A synthetic dysarthric-speech corpus in the SAND layout: SIMULATED speech, never patient data.

A source-filter simulation (``source`` glottal pulses -> ``vowels`` / ``ddk`` vocal tract ->
``channel`` smartphone recording) driven by per-class parameter distributions
(``severity``, with the published values they follow) and written by ``corpus`` exactly as
the SAND challenge ships Task 1. Use it to train, test and demonstrate the pipeline; a score
on it says nothing about patients.

    generate_corpus(out, patients=300, seed=0)          # the whole layout under out/
    write_demo(out)                                      # the five demo patients ID901..ID905
"""

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

__all__ = [
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
