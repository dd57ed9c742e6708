"""SAND Task 1 severity classes and what each means on the ALSFRS-R speech item.

The one definition of the classes: the window, the PDF/JSON/CSV reports, model cards and the
README all take their wording from ``CLASSES``.

Sources (checked 2026-11-27; see docs/classes.md):
- ALSFRS-R item 1 "Speech" (Cedarbaum et al. 1999, J Neurol Sci 169:13-21): 4 normal speech
  processes; 3 detectable speech disturbance; 2 intelligible with repeating; 1 speech
  combined with non-vocal communication; 0 loss of useful speech.
- SAND Task 1: for an ALS patient ``Class`` is the clinician's ALSFRS-R speech score (1-4;
  no subject scored 0), healthy controls are class 5 (challenge description; "ALS patients
  rated 1-4 in severity, and 5 for healthy controls", Deshpande et al. 2025, arXiv 2512.02669).
So class N (1-4) is speech score N; a 0 would belong with class 1. The seed paper numbers the
classes the same way but names them "1 severe ... 5 mild dysarthria"; we show the SAND names.
"""

from __future__ import annotations

from dataclasses import dataclass

ALSFRS_R_SPEECH: dict[int, str] = {
    4: "normal speech processes",
    3: "detectable speech disturbance",
    2: "intelligible with repeating",
    1: "speech combined with non-vocal communication",
    0: "loss of useful speech",
}


@dataclass(frozen=True)
class SeverityClass:
    number: int  # 1..5, the SAND "Class" column
    label: str  # short SAND label
    alsfrs_speech: tuple[int, ...]  # ALSFRS-R item-1 scores this class stands for (empty: healthy)
    meaning: str  # one line for the clinician, from the ALSFRS-R wording
    seed_label: str  # how the seed paper names it


CLASSES: tuple[SeverityClass, ...] = (
    SeverityClass(
        1,
        "Severe dysarthria",
        (1, 0),
        "ALSFRS-R speech 1: speech combined with non-vocal communication (0, loss of useful speech, would belong here too).",
        "Severe",
    ),
    SeverityClass(
        2, "Moderate dysarthria", (2,), "ALSFRS-R speech 2: intelligible with repeating.", "Moderately-severe"
    ),
    SeverityClass(3, "Mild dysarthria", (3,), "ALSFRS-R speech 3: detectable speech disturbance.", "Moderate"),
    SeverityClass(4, "ALS without dysarthria", (4,), "ALSFRS-R speech 4: normal speech processes.", "Mild-moderate"),
    SeverityClass(5, "Healthy control", (), "No ALS (healthy control; not rated on the ALSFRS-R).", "Mild"),
)
CLASS_NUMBERS: tuple[int, ...] = tuple(c.number for c in CLASSES)
NUM_CLASSES = len(CLASSES)
DEFAULT_LABELS: dict[int, str] = {c.number: c.label for c in CLASSES}


def get_class(number: int) -> SeverityClass:
    """The class with this number; ValueError for anything outside 1..5."""
    for c in CLASSES:
        if c.number == int(number):
            return c
    raise ValueError(f"unknown severity class {number!r}; classes are 1..{NUM_CLASSES}")


def describe(number: int) -> str:
    """``"3 — Mild dysarthria. ALSFRS-R speech 3: detectable speech disturbance."``"""
    c = get_class(number)
    return f"{c.number} — {c.label}. {c.meaning}"


def class_to_index(number: int) -> int:
    """Model output index (0-based) of a class number."""
    get_class(number)
    return int(number) - 1


def index_to_class(index: int) -> int:
    """Class number of a model output index."""
    return CLASS_NUMBERS[int(index)]
