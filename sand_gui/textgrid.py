"""Praat TextGrids: the VAD's kept region (and syllable onsets) as annotations Praat opens.

``vad_textgrid(audio, spec, out)`` writes the long text format (UTF-8, ``File type =
"ooTextFile"``) with an interval tier ``VAD`` whose intervals are ``speech`` over the region
the application keeps (``features.trim``: the model's input) and empty before and after it,
and, when syllable times are given (``sand_gui.measures``' DDK ``syllable_times``), a point
tier ``syllables``. Times are seconds from the start of the file. The file is written to a
temporary name and renamed.

``read_textgrid(path)`` reads Praat's long and short text formats (UTF-8, or UTF-16 with a
byte-order mark, as Praat writes non-ASCII text); anything else is a ``TextGridError``
naming the file and what is wrong, never another exception.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .audio import load_recording
from .errors import DatasetError, one_line
from .features import FeatureSpec, trim
from .files import write_atomic

VAD_TIER = "VAD"
SPEECH = "speech"
SYLLABLE_TIER = "syllables"
SYLLABLE_MARK = "onset"
MAX_BYTES = 32 * 2**20  # a TextGrid larger than this is not an annotation of one recording
MAX_ITEMS = 1_000_000  # tiers, intervals or points declared in one file
_TOKEN = re.compile(
    r'"((?:[^"]|"")*)"|\[[^\]"\n]*\]|(<exists>|<absent>)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|!.*|[^\s"\[<]+|<'
)


class TextGridError(DatasetError):
    """A TextGrid cannot be read or written: one sentence naming the file and the reason."""


@dataclass
class Interval:
    xmin: float
    xmax: float
    text: str


@dataclass
class Point:
    time: float
    mark: str


@dataclass
class Tier:
    """An ``IntervalTier`` (``items`` are ``Interval``) or a ``TextTier`` (``Point``)."""

    kind: str  # "IntervalTier" or "TextTier"
    name: str
    xmin: float
    xmax: float
    items: list = field(default_factory=list)


@dataclass
class TextGrid:
    xmin: float
    xmax: float
    tiers: list[Tier]

    def tier(self, name: str) -> Tier:
        """The first tier of that name; TextGridError when there is none."""
        for t in self.tiers:
            if t.name == name:
                return t
        raise TextGridError(
            f"no tier named '{one_line(name, limit=60)}' (tiers: {', '.join(t.name for t in self.tiers)})."
        )


# --- writing ---------------------------------------------------------------------------------


def _q(text: str) -> str:
    return '"' + str(text).replace('"', '""') + '"'


def _num(x: float) -> str:
    return repr(float(x)) if not float(x).is_integer() else str(int(x))


def textgrid_text(grid: TextGrid) -> str:
    """The long text format of ``grid`` (what Praat's "Save as text file" writes)."""
    out = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", f"xmin = {_num(grid.xmin)} "]
    out += [f"xmax = {_num(grid.xmax)} ", "tiers? <exists> ", f"size = {len(grid.tiers)} ", "item []: "]
    for i, t in enumerate(grid.tiers, start=1):
        out += [f"    item [{i}]:", f"        class = {_q(t.kind)} ", f"        name = {_q(t.name)} "]
        out += [f"        xmin = {_num(t.xmin)} ", f"        xmax = {_num(t.xmax)} "]
        if t.kind == "IntervalTier":
            out.append(f"        intervals: size = {len(t.items)} ")
            for j, iv in enumerate(t.items, start=1):
                out += [f"        intervals [{j}]:", f"            xmin = {_num(iv.xmin)} "]
                out += [f"            xmax = {_num(iv.xmax)} ", f"            text = {_q(iv.text)} "]
        else:
            out.append(f"        points: size = {len(t.items)} ")
            for j, p in enumerate(t.items, start=1):
                out += [
                    f"        points [{j}]:",
                    f"            number = {_num(p.time)} ",
                    f"            mark = {_q(p.mark)} ",
                ]
    return "\n".join(out) + "\n"


def vad_grid(n_seconds: float, start: float, stop: float, *, syllables: Sequence[float] | None = None) -> TextGrid:
    """A grid of ``n_seconds`` with ``speech`` over [start, stop) and syllable points (file time).

    Syllable times outside the recording are left out (Praat refuses them).
    """
    if not (math.isfinite(n_seconds) and n_seconds > 0):
        raise TextGridError(f"a TextGrid needs a positive duration, not {n_seconds!r}.")
    start, stop = max(0.0, float(start)), min(float(n_seconds), float(stop))
    intervals = [
        Interval(a, b, text) for a, b, text in ((0.0, start, ""), (start, stop, SPEECH), (stop, n_seconds, "")) if b > a
    ]
    tiers = [Tier("IntervalTier", VAD_TIER, 0.0, n_seconds, intervals or [Interval(0.0, n_seconds, "")])]
    if syllables is not None:
        times = sorted(float(s) for s in syllables if math.isfinite(float(s)) and 0 <= float(s) <= n_seconds)
        tiers.append(Tier("TextTier", SYLLABLE_TIER, 0.0, n_seconds, [Point(s, SYLLABLE_MARK) for s in times]))
    return TextGrid(0.0, float(n_seconds), tiers)


def vad_textgrid(
    path_to_audio: str | Path,
    spec: FeatureSpec,
    out_path: str | Path,
    *,
    syllables: Sequence[float] | None = None,
    syllable_origin: str = "trimmed",
) -> TextGrid:
    """Write the TextGrid of a recording's kept region to ``out_path`` and return it.

    The recording is loaded and trimmed exactly as for the model (``audio.load_recording``,
    ``features.trim``; AudioError when it is unusable). ``syllables`` are seconds from the
    start of the kept region (``syllable_origin="trimmed"``, as ``TaskMeasures.syllable_times``
    gives them) or from the start of the file (``"file"``).
    """
    if syllable_origin not in ("trimmed", "file"):
        raise TextGridError(f"syllable origin '{one_line(syllable_origin, limit=40)}' is not 'trimmed' or 'file'.")
    path = Path(path_to_audio)
    rec = load_recording(path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    voiced = trim(rec.samples, spec=spec, name=one_line(path.name, limit=120))
    sr = spec.sample_rate
    offset = voiced.start / sr if syllable_origin == "trimmed" else 0.0
    shifted = None if syllables is None else [offset + float(s) for s in syllables]
    grid = vad_grid(len(rec.samples) / sr, voiced.start / sr, voiced.stop / sr, syllables=shifted)
    write_atomic(Path(out_path), textgrid_text(grid))
    return grid


# --- reading ---------------------------------------------------------------------------------


def _decode(data: bytes, name: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16"
    else:
        codec = "utf-8-sig"
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        raise TextGridError(f"{name}: not UTF-8 or UTF-16 text; not a Praat TextGrid.") from None


def _tokens(text: str) -> list:
    """Quoted strings (str), numbers (float) and flags (``<exists>``) in order; keys, indices and comments dropped."""
    out: list = []
    for m in _TOKEN.finditer(text):
        if m.group(1) is not None:
            out.append(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            out.append(m.group(2))
        elif m.group(3) is not None:
            out.append(float(m.group(3)))
    return out


class _Reader:
    def __init__(self, tokens: list, name: str):
        self.tokens, self.i, self.name = tokens, 0, name

    def take(self, what: str):
        if self.i >= len(self.tokens):
            raise TextGridError(f"{self.name}: the file ends where {what} was expected.")
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def text(self, what: str) -> str:
        tok = self.take(what)
        if not isinstance(tok, str) or tok in ("<exists>", "<absent>"):
            raise TextGridError(f"{self.name}: {what} should be quoted text, not {one_line(tok, limit=40)}.")
        return tok

    def number(self, what: str) -> float:
        tok = self.take(what)
        if not isinstance(tok, float) or not math.isfinite(tok):
            raise TextGridError(f"{self.name}: {what} should be a number, not {one_line(tok, limit=40)}.")
        return tok

    def count(self, what: str) -> int:
        n = self.number(what)
        if not (n.is_integer() and 0 <= n <= MAX_ITEMS):
            raise TextGridError(f"{self.name}: {what} {n!r} is not a count 0..{MAX_ITEMS}.")
        return int(n)

    def span(self, what: str) -> tuple[float, float]:
        a, b = self.number(f"{what}'s start"), self.number(f"{what}'s end")
        if b < a:
            raise TextGridError(f"{self.name}: {what} ends ({b:g}) before it starts ({a:g}).")
        return a, b


def parse_textgrid(text: str, *, name: str = "TextGrid") -> TextGrid:
    """A TextGrid from the text of a long- or short-format file; TextGridError otherwise."""
    r = _Reader(_tokens(text), one_line(name, limit=120))
    if r.text("the file type") != "ooTextFile" or r.text("the object class") != "TextGrid":
        raise TextGridError(f"{r.name}: not a Praat TextGrid (no 'ooTextFile' / 'TextGrid' header).")
    xmin, xmax = r.span("the grid")
    tiers: list[Tier] = []
    if r.take("<exists> or <absent>") == "<exists>":
        for k in range(1, r.count("the number of tiers") + 1):
            kind = r.text(f"tier {k}'s class")
            tier = Tier(kind, r.text(f"tier {k}'s name"), *r.span(f"tier {k}"))
            if kind == "IntervalTier":
                for j in range(1, r.count(f"tier {k}'s number of intervals") + 1):
                    tier.items.append(Interval(*r.span(f"interval {j} of tier {k}"), r.text(f"interval {j}'s text")))
            elif kind == "TextTier":
                for j in range(1, r.count(f"tier {k}'s number of points") + 1):
                    tier.items.append(Point(r.number(f"point {j} of tier {k}"), r.text(f"point {j}'s mark")))
            else:
                raise TextGridError(f"{r.name}: tier {k} has the unknown class '{one_line(kind, limit=40)}'.")
            tiers.append(tier)
    return TextGrid(xmin, xmax, tiers)


def read_textgrid(path: str | Path) -> TextGrid:
    """Read a TextGrid file (long or short text format); TextGridError naming it otherwise."""
    path = Path(path)
    name = one_line(path.name or str(path), limit=120)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise TextGridError(f"{name}: larger than {MAX_BYTES // 2**20} MB; not a TextGrid of one recording.")
        data = path.read_bytes()
    except OSError as exc:
        why = one_line(exc.strerror or type(exc).__name__, limit=80).lower()
        raise TextGridError(f"{name}: cannot be read ({why}).") from None
    return parse_textgrid(_decode(data, name), name=name)
