"""Scores at recording level and at patient level (the application's majority vote).

``report`` gives macro-F1, accuracy, per-class precision / recall / F1 / support and the
confusion matrix (rows = true class, columns = predicted class). Macro-F1 averages over
the classes present in the true or the predicted labels, as scikit-learn's
``f1_score(average="macro")`` does (the SAND challenge's scorer); a class with no true
and no predicted case has no F1 and is left out. A patient's class is
``sand_gui.votes.majority_vote`` of its tasks' probabilities: the very code of the app.

JSON form of ``evaluate`` (``sand-train evaluate --json``)::

    {"model": str, "data": str, "sheet": str, "classes": [1, 2, 3, 4, 5],
     "recording_level": LEVEL, "patient_level": LEVEL, "skipped": [str, ...]}
    LEVEL = {"n": int, "macro_f1": float, "accuracy": float,
             "per_class": {"1": {"precision": float, "recall": float, "f1": float, "support": int}, ...},
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


def report(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> dict:
    """Macro-F1, accuracy, per-class scores and confusion matrix (see the module note)."""
    cm = confusion_matrix(y_true, y_pred, classes)
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    present = (support + predicted) > 0
    n = int(cm.sum())
    return {
        "n": n,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "accuracy": float(tp.sum() / n) if n else 0.0,
        "per_class": {
            str(c): {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, c in enumerate(classes)
        },
        "confusion_matrix": cm.tolist(),
    }


def patient_votes(records: Sequence[tuple[str, str, np.ndarray]], class_numbers: Sequence[int]) -> dict:
    """Patient id -> ``Verdict`` from (patient, task, probabilities [shape=(c,)]) records."""
    grouped: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for patient, task, probs in records:
        grouped[patient][task] = probs
    return {pid: majority_vote(tasks, class_numbers) for pid, tasks in grouped.items()}


def evaluate_records(records: Sequence[tuple[str, str, np.ndarray]], labels: dict[str, int], class_numbers: Sequence[int]) -> dict:
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


def format_level(title: str, level: dict, classes: Sequence[int]) -> str:
    """A readable table of one level's report."""
    lines = [f"{title}: macro-F1 {level['macro_f1']:.3f}, accuracy {level['accuracy']:.3f}, n = {level['n']}",
             f"  {'class':>5}  {'precision':>9}  {'recall':>6}  {'F1':>5}  {'support':>7}"]
    for c in classes:
        s = level["per_class"][str(c)]
        lines.append(f"  {c:>5}  {s['precision']:>9.3f}  {s['recall']:>6.3f}  {s['f1']:>5.3f}  {s['support']:>7d}")
    lines.append("  confusion (rows true, columns predicted " + " ".join(map(str, classes)) + "):")
    lines += ["  " + f"{c:>5}  " + " ".join(f"{v:>4d}" for v in row) for c, row in zip(classes, level["confusion_matrix"])]
    return "\n".join(lines)


def format_result(result: dict) -> str:
    classes = result["classes"]
    return "\n\n".join([format_level("Recording level", result["recording_level"], classes),
                        format_level("Patient level (majority vote over tasks)", result["patient_level"], classes)])


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
