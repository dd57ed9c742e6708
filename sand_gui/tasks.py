"""The eight SAND speech tasks: one definition used by the app, the CLI and training.

File-name rule (documented in the README): a recording belongs to task T when its file
stem, compared case-insensitively, is ``T`` or ends with ``_T`` / ``-T`` / `` T`` (for
example ``ID000_phonationA.wav``), optionally followed by the application's take number
(``ID000_phonationA_take02.wav``). The alias ``diadochokinesisPA/TA/KA`` found in some
copies of the data maps to ``rhythmPA/TA/KA``. A stem naming no task, or two, is unknown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PHONATION = "phonation"
RHYTHM = "rhythm"
FAMILIES = (PHONATION, RHYTHM)


@dataclass(frozen=True)
class Task:
    """One speech task of the SAND protocol."""

    id: str  # the SAND file name, e.g. "phonationA"
    name: str  # display name, e.g. "Sustained /a/"
    instruction: str  # what the clinician reads to the patient
    family: str  # PHONATION or RHYTHM
    recommended_seconds: float  # how long a good take lasts


def _vowel(letter: str, ipa: str) -> Task:
    return Task(
        id=f"phonation{letter}",
        name=f"Sustained /{ipa}/",
        instruction=f"Take a deep breath and say /{ipa}/ steadily for as long as you comfortably can.",
        family=PHONATION,
        recommended_seconds=6.0,
    )


def _ddk(syllable: str) -> Task:
    return Task(
        id=f"rhythm{syllable.upper()}",
        name=f"Repeat /{syllable}/",
        instruction=f"Repeat /{syllable}/ /{syllable}/ /{syllable}/ as fast and as clearly as you can, in one breath.",
        family=RHYTHM,
        recommended_seconds=5.0,
    )


TASKS: tuple[Task, ...] = (
    _vowel("A", "a"),
    _vowel("E", "e"),
    _vowel("I", "i"),
    _vowel("O", "o"),
    _vowel("U", "u"),
    _ddk("pa"),
    _ddk("ta"),
    _ddk("ka"),
)
TASK_IDS: tuple[str, ...] = tuple(t.id for t in TASKS)
_BY_ID = {t.id.lower(): t for t in TASKS}
ALIASES = {f"diadochokinesis{s}".lower(): f"rhythm{s}" for s in ("PA", "TA", "KA")}


def get_task(task_id: str) -> Task:
    """The task with this id (case-insensitive; aliases accepted); KeyError if none."""
    key = task_id.strip().lower()
    key = ALIASES.get(key, key).lower()
    if key not in _BY_ID:
        raise KeyError(f"unknown task {task_id!r}; known tasks are {', '.join(TASK_IDS)}")
    return _BY_ID[key]


_NAMES = sorted(list(_BY_ID) + list(ALIASES), key=len, reverse=True)
_PATTERN = re.compile(r"(?:^|[_\-\s.])(" + "|".join(_NAMES) + r")(?:_take\d+)?$", re.IGNORECASE)


def task_from_filename(path: str | Path) -> Task | None:
    """The task a file name denotes (``ID000_phonationA.wav`` -> phonationA), or None."""
    stem = Path(path).stem
    m = _PATTERN.search(stem)
    return get_task(m.group(1)) if m else None


def patient_id_from_filename(path: str | Path) -> str | None:
    """The patient id before the task in ``<ID>_<task>.wav``, or None when absent."""
    stem = Path(path).stem
    m = _PATTERN.search(stem)
    if not m:
        return None
    head = stem[: m.start(1)].rstrip("_- .")
    return head or None
