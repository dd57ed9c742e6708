"""Quality notes: a warning or a rejection is a code plus its sentence.

Code that reacts to a note (the task list's quality column, the report, tests) reads
``note.code``, never the English. ``Note`` is a ``str`` (its sentence) so that it prints,
joins and serialises like the plain strings it replaced, and still carries its code.
``AudioError.code`` carries the code of a rejection the same way.
"""

from __future__ import annotations

from enum import Enum


class Code(str, Enum):
    """Every quality condition the loader, the trimmer or the voicing check can report."""

    # warnings: the recording is used
    CLIPPING = "clipping"
    DC_REMOVED = "dc_removed"
    LOW_LEVEL = "low_level"
    TRUNCATED = "truncated"
    SCALED = "scaled"  # float samples beyond full scale were scaled down
    INCOMPLETE = "incomplete"  # the data ends before the header says
    # rejections: the recording is not used
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    TOO_LARGE = "too_large"
    BAD_RATE = "bad_rate"
    NON_FINITE = "non_finite"
    SILENT = "silent"
    NO_VOICE = "no_voice"
    TOO_SHORT = "too_short"


WARNINGS = frozenset({Code.CLIPPING, Code.DC_REMOVED, Code.LOW_LEVEL, Code.TRUNCATED, Code.SCALED, Code.INCOMPLETE})
REJECTIONS = frozenset(Code) - WARNINGS

# The short label of each code for the task list's quality column (tests check that every
# code has one and every label a code).
FLAGS: dict[Code, str] = {
    Code.CLIPPING: "clipping",
    Code.DC_REMOVED: "DC removed",
    Code.LOW_LEVEL: "low level",
    Code.TRUNCATED: "truncated",
    Code.SCALED: "scaled",
    Code.INCOMPLETE: "incomplete",
    Code.NOT_FOUND: "missing",
    Code.UNREADABLE: "unreadable",
    Code.EMPTY: "empty",
    Code.TOO_LARGE: "too large",
    Code.BAD_RATE: "bad rate",
    Code.NON_FINITE: "not finite",
    Code.SILENT: "silent",
    Code.NO_VOICE: "no voice",
    Code.TOO_SHORT: "too short",
}


class Note(str):
    """A warning sentence that also carries its ``code``."""

    code: Code

    def __new__(cls, text: str, *, code: Code) -> Note:
        obj = super().__new__(cls, text)
        obj.code = Code(code)
        return obj

    def __reduce__(self):  # keep the code across copies
        return (_note, (str(self), self.code.value))


def _note(text: str, code: str) -> Note:
    return Note(text, code=Code(code))


def codes(notes) -> list[Code]:
    """The codes of a list of notes (plain strings, from older sessions, have none)."""
    return [n.code for n in notes if isinstance(n, Note)]


def flags(notes, error: BaseException | None = None) -> list[str]:
    """Short labels (``FLAGS``) of the notes' codes and of an error's code, in order, once each."""
    found = codes(notes) + ([error.code] if getattr(error, "code", None) is not None else [])
    return list(dict.fromkeys(FLAGS[Code(c)] for c in found))
