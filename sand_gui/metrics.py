"""Scores at recording level and at patient level (the application's majority vote).

The one implementation of the scores: ``sand-train evaluate``, training's validation and
the workbench's batch run (``sand_gui.batch``) all call these functions, so the figures
they print cannot differ. Pure numpy; no torch, no Qt.

``report`` gives macro-F1, accuracy, per-class precision / recall / F1 / support (None,
shown ``n/a``, where a score is undefined) and the confusion matrix (rows = true class,
columns = predicted class). Macro-F1 averages over the classes present in the true or the
predicted labels, as scikit-learn's
``f1_score(average="macro")`` does (the SAND challenge's scorer); a class with no true
and no predicted case has no F1 and is left out. A patient's class is
``sand_gui.votes.decide`` of its tasks' probabilities by the model card's vote rule
(majority by default, or median): the very code of the app.
``mean_absolute_error`` and ``quadratic_weighted_kappa`` score the classes as an ordinal
scale (a 1 called 2 is a smaller error than a 1 called 5).

JSON form of ``evaluate`` (``sand-train evaluate --json``)::

    {"model": str, "data": str, "sheet": str, "classes": [1, 2, 3, 4, 5], "vote": "majority"|"median",
     "recording_level": LEVEL, "patient_level": LEVEL, "skipped": [str, ...],
     "warnings": [str, ...]}   # classes with fewer than 5 patients (see support_warnings)
    LEVEL = {"n": int, "macro_f1": float, "averaged_over": [int], "accuracy": float,
             "per_class": {"1": {"precision": float|null, "recall": float|null, "f1": float|null,
                                 "support": int}, ...},   # null: undefined (no true / no predicted case)
             "confusion_matrix": [[int]],   # rows true 1..5, columns predicted 1..5
             "mean_absolute_error": float|null, "quadratic_weighted_kappa": float|null}  # null: undefined
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from .votes import decide

MIN_PATIENTS = 5  # fewer patients than this in a class: its scores are shown with a warning


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


def mean_absolute_error(y_true: Sequence[int], y_pred: Sequence[int]) -> float | None:
    """Mean |true - predicted| in class steps (0 is perfect, 4 the worst on a 1..5 scale).

    None for no cases (undefined, and JSON has no NaN).
    """
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape:
        raise ValueError(f"{t.size} true and {p.size} predicted classes; they must pair up.")
    return float(np.mean(np.abs(t - p))) if t.size else None


def quadratic_weighted_kappa(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> float | None:
    """Cohen's kappa with quadratic weights over the ordered ``classes``: agreement beyond
    chance, where a disagreement costs the square of its distance on the scale.

    1 is perfect agreement, 0 what chance gives, below 0 worse than chance; equal to
    scikit-learn's ``cohen_kappa_score(y_true, y_pred, labels=classes, weights="quadratic")``.
    None where it is undefined (no cases, or both sides give one and the same class, so that
    chance already agrees perfectly), never NaN.
    """
    cm = confusion_matrix(y_true, y_pred, classes).astype(np.float64)
    n = cm.sum()
    if n == 0:
        return None
    k = len(classes)
    i, j = np.indices((k, k))
    weights = (i - j) ** 2
    expected = np.outer(cm.sum(axis=1), cm.sum(axis=0)) / n
    denominator = float((weights * expected).sum())
    if denominator == 0:
        return None
    return float(1.0 - (weights * cm).sum() / denominator)


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


def patient_votes(
    records: Sequence[tuple[str, str, np.ndarray]], class_numbers: Sequence[int], *, rule: str = "majority"
) -> dict:
    """Patient id -> ``Verdict`` from (patient, task, probabilities [shape=(c,)]) records, by the
    vote ``rule`` (``sand_gui.votes.VOTE_RULES``: the model card's ``vote``)."""
    grouped: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for patient, task, probs in records:
        grouped[patient][task] = probs
    return {pid: decide(tasks, class_numbers, rule=rule) for pid, tasks in grouped.items()}


def ordinal_report(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> dict:
    """``report`` plus the ordinal scores ``mean_absolute_error`` and ``quadratic_weighted_kappa``."""
    return report(y_true, y_pred, classes) | {
        "mean_absolute_error": mean_absolute_error(y_true, y_pred),
        "quadratic_weighted_kappa": quadratic_weighted_kappa(y_true, y_pred, classes),
    }


def evaluate_records(
    records: Sequence[tuple[str, str, np.ndarray]],
    labels: dict[str, int],
    class_numbers: Sequence[int],
    *,
    rule: str = "majority",
) -> dict:
    """Both levels' reports (``ordinal_report``) for recordings with known patient ``labels``
    (id -> class); patients decided by the vote ``rule``."""
    classes = list(class_numbers)
    rec_true = [labels[p] for p, _, _ in records]
    rec_pred = [classes[int(np.argmax(pr))] for _, _, pr in records]
    verdicts = patient_votes(records, classes, rule=rule)
    pids = sorted(verdicts)
    return {
        "classes": classes,
        "vote": rule,
        "recording_level": ordinal_report(rec_true, rec_pred, classes),
        "patient_level": ordinal_report([labels[p] for p in pids], [verdicts[p].final_class for p in pids], classes),
    }
