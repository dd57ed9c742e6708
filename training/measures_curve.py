"""How the measures classifier grows with its training patients: a learning curve.

``learning_curve`` fits ``measures_fit.fit_measures_model`` (the recipe itself: XGBoost, depth
and tree count by cross-validation) on nested class-stratified subsets of the training
patients' measure vectors and scores each fit on fixed test sets, so that a maintainer can see
whether more patients would still help before paying for them (measuring a patient's eight
recordings with Praat costs about 5 CPU-seconds; synthesising it 0.3). Pure: vectors in,
rows out; ``benchmarks/bench_measures_curve.py`` measures the corpora and prints the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sand_gui.errors import UsageError
from sand_gui.metrics import ordinal_report

from .measures_fit import fit_measures_model, predict_proba


@dataclass(frozen=True)
class CurvePoint:
    """One fit: ``patients`` training patients (draw ``repeat``), its scores on each test set."""

    patients: int
    repeat: int
    scores: dict  # test name -> {"macro_f1", "mae", "qwk", "recall_1"}


def stratified_subset(y: np.ndarray, size: int, *, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` of the labels ``y``, each class in its share (largest remainder), in
    ``rng``'s order: a subset of a larger one drawn from the same ``rng`` state keeps its order."""
    classes, counts = np.unique(y, return_counts=True)
    if not 0 < size <= len(y):
        raise UsageError(f"a training subset of {size} patients: choose 1 to {len(y)}.")
    exact = counts * size / len(y)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: size - int(take.sum())]:
        take[i] += 1
    order = {c: rng.permutation(np.flatnonzero(y == c)) for c in classes}
    return np.sort(np.concatenate([order[c][:k] for c, k in zip(classes, take)]))


def score(y_true: Sequence[int], y_pred: Sequence[int], classes: Sequence[int]) -> dict:
    """Macro-F1, mean absolute class error, quadratic weighted kappa and the recall of the first
    (most severe) class, rounded to 4 places."""
    r = ordinal_report(list(y_true), list(y_pred), list(classes))
    recall = r["per_class"][str(classes[0])]["recall"]
    out = {
        "macro_f1": r["macro_f1"],
        "mae": r["mean_absolute_error"],
        "qwk": r["quadratic_weighted_kappa"],
        "recall_1": recall,
    }
    return {k: None if v is None else round(float(v), 4) for k, v in out.items()}


def learning_curve(
    x: np.ndarray,
    y: Sequence[int],
    tests: Mapping[str, tuple[np.ndarray, Sequence[int]]],
    *,
    sizes: Sequence[int],
    classes: Sequence[int],
    repeats: int = 3,
    seed: int = 1,
) -> list[CurvePoint]:
    """Fit on ``sizes`` of the training vectors ``x`` [shape=(n, f)] with classes ``y``, score on
    every ``tests[name] = (vectors, classes)``. Each size below ``n`` is drawn ``repeats`` times
    (draw ``r`` from one seeded generator per repeat); the whole set is fitted once."""
    y = np.asarray(y, dtype=int)
    if len(x) != len(y):
        raise UsageError(f"{len(x)} vectors and {len(y)} classes: they must pair up.")
    points = []
    for size in sorted(set(int(s) for s in sizes)):
        for r in range(1 if size == len(y) else repeats):
            idx = stratified_subset(y, size, rng=np.random.default_rng([seed, r]))
            model = fit_measures_model(x[idx], y[idx].tolist(), classes)
            scores = {}
            for name, (tx, ty) in tests.items():
                pred = predict_proba(model.booster, tx, n_classes=len(classes)).argmax(axis=1)
                scores[name] = score(ty, [classes[i] for i in pred], classes)
            points.append(CurvePoint(size, r, scores))
    return points


def summarise(points: Sequence[CurvePoint]) -> list[dict]:
    """One row per training size: the mean and s.d. over its draws of every test score."""
    rows = []
    for size in sorted({p.patients for p in points}):
        mine = [p for p in points if p.patients == size]
        row: dict = {"patients": size, "draws": len(mine)}
        for name in mine[0].scores:
            for key in mine[0].scores[name]:
                vals = [p.scores[name][key] for p in mine if p.scores[name][key] is not None]
                row[f"{name}.{key}"] = round(float(np.mean(vals)), 4) if vals else None
                row[f"{name}.{key}.sd"] = round(float(np.std(vals)), 4) if len(vals) > 1 else None
        rows.append(row)
    return rows
