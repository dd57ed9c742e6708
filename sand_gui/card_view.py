"""A model card as rows to show: the evaluations in its ``metrics`` (set x level, and the parts
of a fused bundle's evaluation, the part that decides the class shown first), everything else as
name/value rows, the model's identity, a one-line summary and an HTML page. Plain functions, no
Qt: ``ui.card_dialog`` shows what they return, and tests read them without a display.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bundle import ModelCard

SYNTHETIC_TEXT = (
    "Demonstration model, trained on synthetic speech, not on patient recordings: "
    "its classes mean nothing about a real patient. Not a clinical instrument."
)
LEVEL_NAMES = {
    "patient_level": "per patient (vote of the 8 tasks)",
    "recording_level": "per recording",
    "in_distribution": "families it trained on",
    "out_of_distribution": "only families it never heard",
}
PART_NAMES = {  # a level of a fused bundle's evaluation: "<level>_<part>" (training.lomo.card_entry)
    "praat_measures_alone": "Praat measures classifier alone",
    "fusion": "fusion of network and measures (the bundle's rule)",
    "measures": "Praat measures classifier alone",  # a set's ``fusion`` block (training.evaluate)
    "network": "the network's vote",
}
DECIDING_PART = {"measures": "measures", "weighted": "fusion", "network": "network"}  # card.fusion decision -> part
SHOWN = " (the class shown)"
SET_NAMES = {
    "heldout": "Held-out test",
    "lomo": "Same recipe trained on some synthesis families",
    "validation": "Validation",
    "test": "Test",
    "train": "Training",
}


@dataclass
class Evaluation:
    """One evaluation set scored at one level (per patient or per recording)."""

    key: str  # e.g. "heldout/patient_level"
    title: str  # e.g. "Held-out test, per patient (vote of the 8 tasks)"
    data: str  # the data set's name, "" when the card does not say
    n: int | None
    accuracy: float | None
    macro_f1: float | None
    per_class: dict[str, dict] = field(default_factory=dict)  # class -> {precision, recall, f1, support}
    confusion: list[list[int]] | None = None  # [true class][predicted class], in the card's class order


def level_title(level_key: str) -> str:
    """A level's name in the table: a known level, a known level with its part ("only families it
    never heard — Praat measures classifier alone"), or the key with spaces."""
    if level_key in LEVEL_NAMES:
        return LEVEL_NAMES[level_key]
    for base, name in LEVEL_NAMES.items():
        part = level_key.removeprefix(f"{base}_")
        if part != level_key:
            return f"{name} — {PART_NAMES.get(part, part.replace('_', ' '))}"
    return level_key.replace("_", " ")


def as_number(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


SCORES = ("accuracy", "macro_f1", "per_class", "confusion_matrix", "n", "data")  # one evaluation's keys


def _is_level(d) -> bool:
    return isinstance(d, Mapping) and any(k in d for k in SCORES[:4])


def _levels(block: Mapping, decides: str | None) -> list[tuple[str, str, Mapping]]:
    """``(key, title, level)`` of a set: its levels, after the parts of its ``fusion`` block
    (``training.evaluate``: the measures alone, the fusion, per patient; the network's vote
    only when the set has no patient level, which is that vote), the part that decides the
    class shown first, marked."""
    levels = [(k, level_title(k), v) for k, v in block.items() if _is_level(v)]
    if not levels and _is_level(block):
        return [("", "", block)]
    fused = block.get("fusion")
    if isinstance(fused, Mapping):
        same = "network" if _is_level(block.get("patient_level")) else None  # the vote: already the set's patient level
        parts = [
            (f"fusion/{p}", f"per patient — {PART_NAMES.get(p, p)}", v)
            for p, v in fused.items()
            if _is_level(v) and p != same
        ]
        parts.sort(key=lambda x: x[0] != f"fusion/{decides}")
        if parts and parts[0][0] == f"fusion/{decides}":
            parts[0] = (parts[0][0], parts[0][1] + SHOWN, parts[0][2])
        levels = parts + levels
    return levels


def metric_evaluations(metrics: Mapping, *, decides: str | None = None) -> list[Evaluation]:
    """The evaluations in a card's ``metrics``: ``{set: {data?, <level>: {accuracy, macro_f1, n,
    per_class, confusion_matrix}, fusion?: {<part>: level}}}`` (the layout ``sand-train``
    writes); a set may also hold the scores directly, without levels. ``decides``: the part of a
    fused bundle that decides the class shown (``DECIDING_PART``), listed first in its set."""
    out = []
    for set_key, block in metrics.items():
        if not isinstance(block, Mapping):
            continue
        name = SET_NAMES.get(set_key, str(set_key).replace("_", " ").capitalize())
        for level_key, level_name, level in _levels(block, decides):
            title = f"{name}, {level_name}" if level_key else name
            n = as_number(level.get("n"))
            confusion = level.get("confusion_matrix")
            ok = isinstance(confusion, list) and all(isinstance(r, list) for r in confusion)
            out.append(
                Evaluation(
                    key=f"{set_key}/{level_key}" if level_key else str(set_key),
                    title=title,
                    data=str(block.get("data", level.get("data", "")) or ""),
                    n=None if n is None else int(n),
                    accuracy=as_number(level.get("accuracy")),
                    macro_f1=as_number(level.get("macro_f1")),
                    per_class={str(c): v for c, v in (level.get("per_class") or {}).items() if isinstance(v, Mapping)},
                    confusion=confusion if ok else None,
                )
            )
    return out


def deciding_part(card: ModelCard) -> str | None:
    """The part of a fused bundle's evaluations that decides the class shown, or None."""
    fusion = card.fusion if isinstance(card.fusion, Mapping) else None
    return None if fusion is None else DECIDING_PART.get(str(fusion.get("decision")))


def flat_items(d: Mapping, *, skip_evaluations: bool = False, prefix: str = "") -> list[tuple[str, str]]:
    """``d`` as ``(dotted.key, text)`` rows, nested mappings flattened; lists of plain values are
    joined with commas. ``skip_evaluations`` leaves out what ``metric_evaluations`` shows."""
    rows = []
    for k, v in d.items():
        key = f"{prefix}{k}"
        if skip_evaluations and isinstance(v, Mapping) and (_is_level(v) or any(_is_level(x) for x in v.values())):
            shown = SCORES if _is_level(v) else ("data",)  # what the evaluation tables already show
            rest = {kk: vv for kk, vv in v.items() if not _is_level(vv) and kk not in shown}
            rows += flat_items(rest, skip_evaluations=True, prefix=f"{key}.")
        elif isinstance(v, Mapping):
            rows += flat_items(v, prefix=f"{key}.") if v else [(key, "—")]
        elif isinstance(v, list) and all(not isinstance(x, (list, Mapping)) for x in v):
            rows.append((key, ", ".join(cell_text(x) for x in v) or "—"))
        else:
            rows.append((key, cell_text(v)))
    return rows


def cell_text(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, str):
        return v
    return json.dumps(v, allow_nan=False)


def percent(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f} %"


def fraction(v) -> str:
    v = as_number(v)
    return "—" if v is None else f"{v:.2f}"


def card_summary(card: ModelCard | None) -> str:
    """One line for the window: name, architecture, training data."""
    if card is None:
        return "No model loaded — choose one in Settings."
    data = str(card.training_data.get("description") or "training data not described")
    if len(data) > 90:
        data = data[:88].rsplit(" ", 1)[0] + "…"
    synth = " · SYNTHETIC training data" if card.synthetic else ""
    return f"Model: {card.name} ({card.architecture}) · trained on: {data}{synth}"


def model_rows(card: ModelCard) -> list[tuple[str, str]]:
    """The card's identity as name/value rows."""
    return [
        ("Name", card.name),
        (
            "Architecture",
            f"{card.architecture} {json.dumps(card.arch_kwargs) if card.arch_kwargs else ''}".strip(),
        ),
        (
            "Classes",
            ", ".join(f"{n}: {lab}" for n, lab in zip(card.class_numbers, card.class_labels)),
        ),
        ("Tasks", ", ".join(card.tasks)),
        ("Created", card.created or "—"),
        (
            "Weights SHA-256",
            (card.weights_sha256[:16] + "…") if card.weights_sha256 else "—",
        ),
        ("Software", ", ".join(f"{k} {v}" for k, v in card.software.items()) or "—"),
        ("Trained on synthetic speech", "yes" if card.synthetic else "no"),
    ]


def card_html(card: ModelCard) -> str:
    """The whole card as HTML tables (for a text view or a printout)."""
    e = html.escape

    def table(rows) -> str:
        return (
            "<table cellpadding=3>"
            + "".join(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in rows)
            + "</table>"
        )

    parts = [f"<h2>{e(card.name)}</h2>"]
    if card.synthetic:
        parts.append(f"<p style='background:#fff3b0;padding:6px'><b>{e(SYNTHETIC_TEXT)}</b></p>")
    parts.append(table(model_rows(card)))
    parts.append("<h3>Training data</h3>" + table(flat_items(card.training_data)))
    parts.append("<h3>Measured performance</h3>")
    evals = metric_evaluations(card.metrics, decides=deciding_part(card))
    if evals:
        parts.append(
            "<table cellpadding=3><tr><th>Evaluation</th><th>Data</th><th>n</th><th>Accuracy</th><th>Macro-F1</th></tr>"
            + "".join(
                f"<tr><td>{e(v.title)}</td><td>{e(v.data)}</td><td>{'' if v.n is None else v.n}</td>"
                f"<td>{percent(v.accuracy)}</td><td>{fraction(v.macro_f1)}</td></tr>"
                for v in evals
            )
            + "</table>"
        )
    other = flat_items(card.metrics, skip_evaluations=True)
    if other:
        parts.append(table(other))
    if not card.metrics:
        parts.append("<p>No metrics recorded in this card.</p>")
    parts.append("<h3>Preprocessing (FeatureSpec)</h3>" + table(flat_items(card.spec.to_dict())))
    if card.notes:
        parts.append(f"<h3>Notes</h3><p>{e(card.notes)}</p>")
    return "".join(parts)
