"""The measures classifier's learning curve (``training.measures_curve``) and its benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sand_gui.errors import UsageError
from training.measures_curve import learning_curve, stratified_subset, summarise
from training.measures_fit import fit_measures_model

ROOT = Path(__file__).resolve().parents[2]
CLASSES = [1, 2, 3, 4, 5]


def vectors(n_per_class: int, *, noise: float, seed: int) -> tuple[np.ndarray, list[int]]:
    """Six features, two of which carry the class (plus noise), one NaN now and then."""
    rng = np.random.default_rng(seed)
    y = np.repeat(CLASSES, n_per_class)
    x = rng.standard_normal((len(y), 6))
    x[:, 0] = y + noise * rng.standard_normal(len(y))
    x[:, 3] = -2.0 * y + noise * rng.standard_normal(len(y))
    x[rng.random(x.shape) < 0.02] = np.nan
    return x.astype(np.float32), y.tolist()


def test_stratified_subsets_keep_class_shares_and_nest():
    y = np.repeat(CLASSES, [10, 20, 30, 40, 50])
    small = stratified_subset(y, 15, rng=np.random.default_rng(3))
    large = stratified_subset(y, 60, rng=np.random.default_rng(3))
    assert len(small) == 15 and len(large) == 60
    assert np.bincount(y[large], minlength=6)[1:].tolist() == [4, 8, 12, 16, 20]
    assert sum(np.bincount(y[small], minlength=6)[1:]) == 15
    assert set(small) <= set(large)  # the same generator state: a smaller draw is inside a larger one
    assert len(set(large)) == 60  # no patient twice
    with pytest.raises(UsageError, match="choose 1 to 150"):
        stratified_subset(y, 151, rng=np.random.default_rng(0))


def test_more_patients_score_better_on_a_learnable_task():
    x, y = vectors(40, noise=1.2, seed=1)
    tx, ty = vectors(30, noise=1.2, seed=2)
    points = learning_curve(x, y, {"held": (tx, ty)}, sizes=[10, 200], classes=CLASSES, repeats=2)
    assert [(p.patients, p.repeat) for p in points] == [(10, 0), (10, 1), (200, 0)]  # the whole set once
    rows = summarise(points)
    assert [r["patients"] for r in rows] == [10, 200] and [r["draws"] for r in rows] == [2, 1]
    few, all_ = rows
    assert all_["held.macro_f1"] > few["held.macro_f1"] + 0.1
    assert all_["held.mae"] < few["held.mae"]
    assert all_["held.macro_f1"] > 0.5 and all_["held.qwk"] > 0.8  # far above chance (0.2)
    assert all_["held.macro_f1.sd"] is None and few["held.macro_f1.sd"] is not None
    assert 0.0 <= all_["held.recall_1"] <= 1.0


def test_the_same_inputs_give_the_same_curve():
    x, y = vectors(12, noise=1.0, seed=5)
    tx, ty = vectors(6, noise=1.0, seed=6)
    a = learning_curve(x, y, {"t": (tx, ty)}, sizes=[20, 60], classes=CLASSES, repeats=2)
    b = learning_curve(x, y, {"t": (tx, ty)}, sizes=[60, 20], classes=CLASSES, repeats=2)
    assert a == b


def test_one_patient_per_class_is_refused_in_a_sentence_not_by_xgboost():
    """Stratified folds put a class's only patient in the first fold; with one patient per class
    every fold's training part was empty and XGBoost stopped with a C++ check failure."""
    x, y = vectors(1, noise=1.0, seed=0)
    with pytest.raises(UsageError, match="two training patients of at least one class"):
        fit_measures_model(x, y, CLASSES)
    x, y = vectors(1, noise=1.0, seed=0)
    model = fit_measures_model(np.concatenate([x, x[:1]]), y + y[:1], CLASSES)  # one class twice: CV runs
    assert all(0.0 <= c["cv_macro_f1"] <= 1.0 for c in model.cv)


def test_vectors_and_classes_must_pair_up():
    x, y = vectors(4, noise=1.0, seed=0)
    with pytest.raises(UsageError, match="must pair up"):
        learning_curve(x, y[:-1], {}, sizes=[10], classes=CLASSES)


def test_benchmark_measures_real_corpora(tmp_path):
    """The script end to end: a real synthetic corpus, measured with Praat, a table and JSON."""
    from training.synth import generate_corpus

    synth_corpus = tmp_path / "corpus"
    generate_corpus(synth_corpus, patients=8, seed=4, class_priors="uniform")
    out = tmp_path / "curve.json"
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_measures_curve.py"),
            "--train",
            str(synth_corpus),
            "--test",
            f"same={synth_corpus}",
            "--sizes",
            "6",
            "8",
            "--repeats",
            "1",
            "--cache",
            str(tmp_path / "cache"),
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "same: 8 patients" in r.stdout and "learning curve: 8 training patients" in r.stdout
    rows = json.loads(out.read_text())["rows"]
    assert [row["patients"] for row in rows] == [6, 8]
    assert all(0.0 <= row["same.macro_f1"] <= 1.0 for row in rows)
    assert len(list((tmp_path / "cache" / "measures").rglob("*.json"))) == 64  # every recording, cached
