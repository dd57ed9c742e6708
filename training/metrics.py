"""Scores as text and images; the scores themselves live in the core (``sand_gui.metrics``).

The functions that compute them (``report``, ``confusion_matrix``, ``patient_votes``,
``evaluate_records``, ``support_warnings``, ``mean_absolute_error``,
``quadratic_weighted_kappa``, ``ordinal_report``) are re-exported here, so ``sand-train evaluate``, training and
the workbench's batch run share one implementation; the JSON form of ``evaluate`` is
described in ``sand_gui.metrics``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sand_gui.metrics import (  # noqa: F401  (re-exported: every existing import keeps working)
    MIN_PATIENTS,
    confusion_matrix,
    evaluate_records,
    mean_absolute_error,
    ordinal_report,
    patient_votes,
    quadratic_weighted_kappa,
    report,
    support_warnings,
)


def _score(v: float | None, width: int) -> str:
    return f"{'n/a':>{width}}" if v is None else f"{v:>{width}.3f}"


def _ordinal(level: dict) -> str:
    """``, MAE 0.123, QWK 0.900`` when the level has the ordinal scores (n/a where undefined)."""
    if "mean_absolute_error" not in level:
        return ""
    mae, qwk = level["mean_absolute_error"], level.get("quadratic_weighted_kappa")
    return f", MAE {_score(mae, 0).strip()}, QWK {_score(qwk, 0).strip()}"


def format_level(title: str, level: dict, classes: Sequence[int], *, unit: str = "cases") -> str:
    """A readable table of one level's report: each class's support beside its scores,
    ``n/a`` where a score is undefined."""
    over = level.get("averaged_over", list(classes))
    lines = [
        (
            f"{title}: macro-F1 {level['macro_f1']:.3f} (over classes {', '.join(map(str, over)) or 'none'}), "
            f"accuracy {level['accuracy']:.3f}{_ordinal(level)}, n = {level['n']} {unit}"
        ),
        f"  {'class':>5}  {unit:>10}  {'precision':>9}  {'recall':>6}  {'F1':>5}",
    ]
    for c in classes:
        s = level["per_class"][str(c)]
        flag = "  (few)" if 0 < s["support"] < MIN_PATIENTS and unit == "patients" else ""
        lines.append(
            f"  {c:>5}  {s['support']:>10d}  {_score(s['precision'], 9)}  {_score(s['recall'], 6)}  "
            f"{_score(s['f1'], 5)}{flag}"
        )
    lines.append("  confusion (rows true, columns predicted " + " ".join(map(str, classes)) + "):")
    lines += [
        "  " + f"{c:>5}  " + " ".join(f"{v:>4d}" for v in row) for c, row in zip(classes, level["confusion_matrix"])
    ]
    return "\n".join(lines)


def format_result(result: dict) -> str:
    """Both levels' tables, then the warnings about classes with few patients."""
    classes = result["classes"]
    parts = [
        format_level("Recording level", result["recording_level"], classes, unit="recordings"),
        format_level(
            f"Patient level ({result.get('vote', 'majority')} vote over tasks)",
            result["patient_level"],
            classes,
            unit="patients",
        ),
    ]
    warns = result.get("warnings") or support_warnings(result["patient_level"], classes)
    if warns:
        parts.append("\n".join(f"warning: {w}" for w in warns))
    return "\n\n".join(parts)


def save_confusion_png(path, cm, classes: Sequence[int], *, title: str) -> None:
    """Write a confusion-matrix image with matplotlib's Agg canvas (no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    cm = np.asarray(cm)
    fig = Figure(figsize=(4.2, 3.8), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.imshow(cm, cmap="Blues")
    ticks = range(len(classes))
    ax.set_xticks(ticks, [str(c) for c in classes])
    ax.set_yticks(ticks, [str(c) for c in classes])
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    import textwrap

    ax.set_title("\n".join(textwrap.wrap(title, 48)), fontsize=9)
    top = cm.max() if cm.size else 0
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
