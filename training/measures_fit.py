"""The measures classifier: Praat measures of each patient -> XGBoost class probabilities.

``patient_vectors`` measures every recording of a list of patients (``measure_recording``,
the code behind ``sand_gui.measures.measure_patient``, in one pool of ``workers`` processes for
all patients at once) and keeps each recording's result in a cache, one JSON file per
recording under ``<cache>/measures/``, keyed by the file's SHA-256, its task, the speaker's sex,
the FeatureSpec (load, band limit, trim) and the Praat settings; files are written to a
temporary name and renamed. ``fit_measures_model`` trains XGBoost (``multi:softprob``, class-
balanced sample weights, fixed seed, one thread: the same bytes every run) with the tree count
and depth chosen by stratified cross-validation on the training patients only.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sand_gui.dataset import Patient
from sand_gui.errors import UsageError
from sand_gui.features import FeatureSpec
from sand_gui.measures.patient import across_measures
from sand_gui.measures.results import PatientMeasures, TaskMeasures, Why, measured, not_measurable
from sand_gui.measures.settings import normalise_sex, settings_for
from sand_gui.measures.vector import vectorise
from sand_gui.metrics import report

from .data import RecordingRef

SEED = 1
GRID = ({"max_depth": 2, "n_trees": 100}, {"max_depth": 3, "n_trees": 100}, {"max_depth": 3, "n_trees": 200})
BASE_PARAMS = {
    "objective": "multi:softprob",
    "eta": 0.1,
    "subsample": 0.8,
    "colsample_bynode": 0.5,
    "min_child_weight": 1.0,
    "tree_method": "hist",
    "nthread": 1,
    "seed": SEED,
    "verbosity": 0,
}
FOLDS = 5


# ---------------------------------------------------------------- measuring, with a cache


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, allow_nan=False).encode("utf-8")).hexdigest()


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _to_json(tm: TaskMeasures) -> dict:
    return {
        "task": tm.task,
        "error": tm.error,
        "measures": [
            {"key": m.key, "value": m.value, "why": None if m.why is None else m.why.value, "reason": m.reason}
            for m in tm.measures
        ],
    }


def _from_json(d: dict, *, file: str, settings: dict) -> TaskMeasures:
    rows = []
    for m in d["measures"]:
        if m["value"] is None:
            rows.append(
                not_measurable(m["key"], task_id=d["task"], why=Why(m["why"] or "undefined"), reason=m["reason"] or "")
            )
        else:
            rows.append(measured(m["key"], m["value"], task_id=d["task"], method=""))
    return TaskMeasures(task=d["task"], file=file, measures=rows, settings=settings, error=d["error"])


class MeasuresCache:
    """One JSON file per recording under ``<root>/measures/`` (see the module docstring)."""

    def __init__(self, root: str | Path | None, spec: FeatureSpec):
        self.dir = None if root is None else Path(root) / "measures"
        self.spec_key = _digest(spec.to_dict())
        self.hits = self.misses = 0

    def key(self, path: Path, *, task: str, sex: str, settings: dict) -> str:
        return _digest([_file_sha256(path), task, sex, self.spec_key, _digest(settings)])

    def get(self, key: str) -> dict | None:
        if self.dir is None:
            return None
        try:
            d = json.loads((self.dir / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        self.hits += 1
        return d

    def put(self, key: str, d: dict) -> None:
        if self.dir is None:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".part", dir=self.dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(d, fh, allow_nan=False)
            os.replace(tmp, self.dir / f"{key}.json")
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _measure_all(todo: list[tuple[RecordingRef, str]], done, *, spec: FeatureSpec, workers: int, progress: bool):
    """``measure_recording`` of each (ref, sex), in a pool of ``workers`` spawned processes;
    ``done(ref, TaskMeasures)`` as each one ends (so the cache keeps what an interrupted run did)."""
    from tqdm import tqdm

    from sand_gui.measures.patient import measure_recording

    bar = tqdm(total=len(todo), desc="measures", unit="rec", disable=not progress, leave=False)
    if workers <= 1:
        for r, sex in todo:
            done(r, measure_recording(r.path, task_id=r.task, spec=spec, sex=sex))
            bar.update()
        return bar.close()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        jobs = {pool.submit(measure_recording, r.path, task_id=r.task, spec=spec, sex=sex): r for r, sex in todo}
        for job in as_completed(jobs):
            done(jobs[job], job.result())
            bar.update()
    bar.close()


def patient_measures(
    patients: Sequence[Patient],
    refs: Sequence[RecordingRef],
    *,
    spec: FeatureSpec,
    cache: str | Path | None = None,
    workers: int = 1,
    progress: bool = False,
) -> dict[str, PatientMeasures]:
    """Patient id -> its measures (every listed recording measured, or read from the cache)."""
    if workers < 1:
        raise UsageError(f"--workers {workers}: at least one process is needed.")
    store = MeasuresCache(cache, spec)
    sex = {p.id: normalise_sex(p.sex) for p in patients}
    settings = {s: settings_for(sex=s, sample_rate=spec.sample_rate).to_dict() for s in set(sex.values()) | {"U"}}
    found, todo, keys = {}, [], {}
    for r in refs:
        s = sex.get(r.patient, "U")
        keys[r] = store.key(r.path, task=r.task, sex=s, settings=settings[s])
        d = store.get(keys[r])
        if d is None:
            todo.append((r, s))
        else:
            found[r] = d

    def done(r: RecordingRef, tm: TaskMeasures) -> None:
        found[r] = _to_json(tm)
        store.put(keys[r], found[r])
        store.misses += 1

    if todo:
        _measure_all(todo, done, spec=spec, workers=workers, progress=progress)
    by_patient: dict[str, dict[str, TaskMeasures]] = {p.id: {} for p in patients}
    for r, d in found.items():
        s = sex.get(r.patient, "U")
        by_patient.setdefault(r.patient, {})[r.task] = _from_json(d, file=str(r.path), settings=settings[s])
    out = {}
    for pid, tasks in by_patient.items():
        s = sex.get(pid, "U")
        out[pid] = PatientMeasures(
            tasks=list(tasks.values()),
            across=across_measures(tasks),
            sex=s,
            settings=settings[s],
            software={},
            elapsed_ms=0.0,
        )
    return out


def vectors(measures: dict[str, PatientMeasures], ids: Sequence[str]) -> np.ndarray:
    """Measure vectors [shape=(len(ids), n_features), float32] of ``ids``, NaN where missing."""
    return np.stack([vectorise(measures[i]) for i in ids]) if ids else np.zeros((0, 0), np.float32)


# ---------------------------------------------------------------- the classifier


def balanced_weights(y: np.ndarray) -> np.ndarray:
    """n / (k * count(class)) per sample: every class weighs as much in the loss."""
    classes, counts = np.unique(y, return_counts=True)
    per = {c: len(y) / (len(classes) * n) for c, n in zip(classes, counts)}
    return np.array([per[c] for c in y], dtype=np.float32)


def stratified_folds(y: np.ndarray, *, k: int = FOLDS, seed: int = SEED) -> np.ndarray:
    """Fold number of each sample: each class dealt round-robin over ``k`` folds after a seeded shuffle."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), dtype=int)
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        fold[idx] = np.arange(len(idx)) % k
    return fold


def train_booster(x: np.ndarray, y: np.ndarray, *, n_classes: int, max_depth: int, n_trees: int):
    """An XGBoost Booster on vectors ``x`` [shape=(n, f)] and class indices ``y`` [shape=(n,)]."""
    import xgboost as xgb

    params = dict(BASE_PARAMS, num_class=n_classes, max_depth=max_depth)
    dtrain = xgb.DMatrix(x, label=y, weight=balanced_weights(y), missing=np.nan)
    return xgb.train(params, dtrain, num_boost_round=n_trees)


def predict_proba(booster, x: np.ndarray, *, n_classes: int) -> np.ndarray:
    import xgboost as xgb

    return np.asarray(booster.predict(xgb.DMatrix(x, missing=np.nan)), dtype=np.float64).reshape(len(x), n_classes)


@dataclass
class MeasuresModel:
    booster: object
    params: dict  # the chosen max_depth and n_trees, and the fixed ones
    cv: list[dict]  # each candidate's cross-validated macro-F1 on the training patients

    def json_bytes(self) -> bytes:
        return bytes(self.booster.save_raw("json"))


def fit_measures_model(
    x: np.ndarray, labels: Sequence[int], class_numbers: Sequence[int], *, grid: Sequence[dict] = GRID
) -> MeasuresModel:
    """XGBoost on the training patients' vectors ``x`` [shape=(n, f)] and classes ``labels``;
    tree count and depth chosen from ``grid`` by stratified ``FOLDS``-fold CV (macro-F1) on
    these patients only (ties: the earlier, smaller candidate)."""
    classes = list(class_numbers)
    y = np.array([classes.index(int(c)) for c in labels])
    if len(np.unique(y)) < 2:
        raise UsageError("the measures classifier needs training patients of at least two classes.")
    k = int(min(FOLDS, max(2, np.bincount(y)[np.bincount(y) > 0].min())))
    folds = stratified_folds(y, k=k)
    usable = [f for f in range(k) if (folds == f).any() and (folds != f).any()]
    if not usable:  # every class has one patient: they all fall in the first fold
        raise UsageError(
            f"the measures classifier needs two training patients of at least one class to choose its size "
            f"by cross-validation; these {len(y)} patients are one per class."
        )
    cv = []
    for cand in grid:
        pred = np.full(len(y), -1)
        for f in usable:
            tr, te = folds != f, folds == f
            booster = train_booster(x[tr], y[tr], n_classes=len(classes), **cand)
            pred[te] = predict_proba(booster, x[te], n_classes=len(classes)).argmax(axis=1)
        held = pred >= 0
        score = report([classes[i] for i in y[held]], [classes[i] for i in pred[held]], classes)["macro_f1"]
        cv.append(dict(cand, cv_macro_f1=round(float(score), 4)))
    best = max(range(len(grid)), key=lambda i: (cv[i]["cv_macro_f1"], -i))
    booster = train_booster(x, y, n_classes=len(classes), **grid[best])
    params = dict(BASE_PARAMS, **grid[best], folds=k)
    assert all(math.isfinite(c["cv_macro_f1"]) for c in cv)
    return MeasuresModel(booster, params, cv)
