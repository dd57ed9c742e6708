"""SAND Task 1 severity classes (ALSFRS-R speech item).

Official meaning, from the SAND challenge: 1 severe dysarthria (loss of useful speech),
2 moderate dysarthria (speech combined with non-vocal communication), 3 mild dysarthria
(intelligibility with repeating), 4 ALS without dysarthria (detectable disturbance at
most), 5 healthy control. The seed paper numbers them the same way but calls them
"1 severe ... 5 mild dysarthria"; we show the official names. A model card carries its own
labels so that a retrained model may rename them; these are the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SeverityClass:
    number: int  # 1..5, the SAND "Class" column
    label: str  # short official label
    meaning: str  # one line for the clinician
    seed_label: str  # how the seed paper names it


CLASSES: tuple[SeverityClass, ...] = (
    SeverityClass(1, "Severe dysarthria", "Loss of useful speech (ALSFRS-R speech 0-1).", "Severe"),
    SeverityClass(2, "Moderate dysarthria", "Speech combined with non-vocal communication (ALSFRS-R speech 2).", "Moderately-severe"),
    SeverityClass(3, "Mild dysarthria", "Intelligible with repeating (ALSFRS-R speech 3).", "Moderate"),
    SeverityClass(4, "ALS without dysarthria", "Detectable speech disturbance at most (ALSFRS-R speech 4).", "Mild-moderate"),
    SeverityClass(5, "Healthy control", "Normal speech, no ALS.", "Mild"),
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


def class_to_index(number: int) -> int:
    """Model output index (0-based) of a class number."""
    get_class(number)
    return int(number) - 1


def index_to_class(index: int) -> int:
    """Class number of a model output index."""
    return CLASS_NUMBERS[int(index)]
