"""Scores at recording level and at patient level (the application's majority vote).

``report`` gives macro-F1, accuracy, per-class precision / recall / F1 / support (None,
shown ``n/a``, where a score is undefined) and the confusion matrix (rows = true class,
columns = predicted class). Macro-F1 averages over the classes present in the true or the
predicted labels, as scikit-learn's
``f1_score(average="macro")`` does (the SAND challenge's scorer); a class with no true
and no predicted case has no F1 and is left out. A patient's class is
``sand_gui.votes.majority_vote`` of its tasks' probabilities: the very code of the app.

JSON form of ``evaluate`` (``sand-train evaluate --json``)::

    {"model": str, "data": str, "sheet": str, "classes": [1, 2, 3, 4, 5],
     "recording_level": LEVEL, "patient_level": LEVEL, "skipped": [str, ...],
     "warnings": [str, ...]}   # classes with fewer than 5 patients (see support_warnings)
    LEVEL = {"n": int, "macro_f1": float, "averaged_over": [int], "accuracy": float,
             "per_class": {"1": {"precision": float|null, "recall": float|null, "f1": float|null,
                                 "support": int}, ...},   # null: undefined (no true / no predicted case)
             "confusion_matrix": [[int]]   # rows true 1..5, columns predicted 1..5}
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from sand_gui.votes import majority_vote


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> np.ndarray:
    """Counts [shape=(c, c)]: row = true class, column = predicted class."""
    index = {c: i for i, c in enumerate(classes)}
    cm = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[index[int(t)], index[int(p)]] += 1
    return cm


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


def report(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> dict:
    """Macro-F1, accuracy, per-class scores and confusion matrix (see the module note).

    A score that is undefined is None (``n/a`` in tables, ``null`` in JSON), never 0:
    recall of a class with no true case, precision of a class never predicted, F1 of a
    class with neither. A class with no true case but some predictions has F1 0, as in
    scikit-learn, and counts in the macro average (``averaged_over`` lists the classes).
    """
    cm = confusion_matrix(y_true, y_pred, classes)
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    per_class, f1s = {}, []
    for i, c in enumerate(classes):
        p, r = _ratio(tp[i], predicted[i]), _ratio(tp[i], support[i])
        f1 = None
        if support[i] or predicted[i]:
            pp, rr = p or 0.0, r or 0.0
            f1 = 2 * pp * rr / (pp + rr) if pp + rr > 0 else 0.0
            f1s.append((c, f1))
        per_class[str(c)] = {"precision": p, "recall": r, "f1": f1, "support": int(support[i])}
    n = int(cm.sum())
    return {
        "n": n,
        "macro_f1": float(np.mean([f for _, f in f1s])) if f1s else 0.0,
        "averaged_over": [int(c) for c, _ in f1s],
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
    }


MIN_PATIENTS = 5  # fewer patients than this in a class: its scores are shown with a warning


def support_warnings(
    level: dict, classes: Sequence[int], *, minimum: int = MIN_PATIENTS, unit: str = "patients"
) -> list[str]:
    """One line per class with fewer than ``minimum`` cases: its scores mean little."""
    lines = []
    for c in classes:
        n = level["per_class"][str(c)]["support"]
        if n == 0:
            lines.append(f"class {c} has no {unit[:-1]} in this evaluation; its recall and F1 are n/a.")
        elif n < minimum:
            lines.append(
                f"class {c} has only {n} {unit[:-1] if n == 1 else unit} (fewer than {minimum}); "
                "its scores are too uncertain to trust."
            )
    return lines


def patient_votes(records: Sequence[tuple[str, str, np.ndarray]], class_numbers: Sequence[int]) -> dict:
    """Patient id -> ``Verdict`` from (patient, task, probabilities [shape=(c,)]) records."""
    grouped: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for patient, task, probs in records:
        grouped[patient][task] = probs
    return {pid: majority_vote(tasks, class_numbers) for pid, tasks in grouped.items()}


def evaluate_records(
    records: Sequence[tuple[str, str, np.ndarray]], labels: dict[str, int], class_numbers: Sequence[int]
) -> dict:
    """Both levels' reports for recordings with known patient ``labels`` (id -> class)."""
    classes = list(class_numbers)
    rec_true = [labels[p] for p, _, _ in records]
    rec_pred = [classes[int(np.argmax(pr))] for _, _, pr in records]
    verdicts = patient_votes(records, classes)
    pids = sorted(verdicts)
    return {
        "classes": classes,
        "recording_level": report(rec_true, rec_pred, classes),
        "patient_level": report([labels[p] for p in pids], [verdicts[p].final_class for p in pids], classes),
    }


def _score(v: float | None, width: int) -> str:
    return f"{'n/a':>{width}}" if v is None else f"{v:>{width}.3f}"


def format_level(title: str, level: dict, classes: Sequence[int], *, unit: str = "cases") -> str:
    """A readable table of one level's report: each class's support beside its scores,
    ``n/a`` where a score is undefined."""
    over = level.get("averaged_over", list(classes))
    lines = [
        (
            f"{title}: macro-F1 {level['macro_f1']:.3f} (over classes {', '.join(map(str, over)) or 'none'}), "
            f"accuracy {level['accuracy']:.3f}, n = {level['n']} {unit}"
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
        format_level("Patient level (majority vote over tasks)", result["patient_level"], classes, unit="patients"),
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
