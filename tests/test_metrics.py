"""The core's scores (sand_gui.metrics): the ordinal scores against scikit-learn, and the
re-export that keeps every ``training.metrics`` import working."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sand_gui import metrics

CLASSES = [1, 2, 3, 4, 5]
pairs = st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=60)


def _sklearn_qwk(t, p):
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(t, p, labels=CLASSES, weights="quadratic"))


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_qwk_equals_scikit_learn(data):
    t, p = [a for a, _ in data], [b for _, b in data]
    ours, theirs = metrics.quadratic_weighted_kappa(t, p, CLASSES), _sklearn_qwk(t, p)
    if ours is None:  # undefined: scikit-learn says NaN (or 0 with a warning); we say None, never NaN
        assert len(set(t)) == 1 and set(t) == set(p)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_qwk_known_values():
    assert metrics.quadratic_weighted_kappa([1, 2, 3, 4, 5], [1, 2, 3, 4, 5], CLASSES) == pytest.approx(1.0)
    assert metrics.quadratic_weighted_kappa([1, 2, 3, 4, 5], [5, 4, 3, 2, 1], CLASSES) == pytest.approx(-1.0)
    # a near miss costs less than a far one
    near = metrics.quadratic_weighted_kappa([1, 2, 3, 4, 5], [2, 2, 3, 4, 5], CLASSES)
    far = metrics.quadratic_weighted_kappa([1, 2, 3, 4, 5], [5, 2, 3, 4, 5], CLASSES)
    assert 0 < far < near < 1
    assert metrics.quadratic_weighted_kappa([], [], CLASSES) is None
    assert metrics.quadratic_weighted_kappa([3, 3], [3, 3], CLASSES) is None  # chance agrees perfectly: undefined


@settings(max_examples=40, deadline=None)
@given(pairs)
def test_mae_equals_scikit_learn(data):
    from sklearn.metrics import mean_absolute_error

    t, p = [a for a, _ in data], [b for _, b in data]
    assert metrics.mean_absolute_error(t, p) == pytest.approx(mean_absolute_error(t, p))


def test_mae_edges():
    assert metrics.mean_absolute_error([1, 5], [5, 1]) == 4.0
    assert metrics.mean_absolute_error([], []) is None
    with pytest.raises(ValueError):
        metrics.mean_absolute_error([1, 2], [1])


def test_report_per_class_equals_scikit_learn():
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(3)
    t, p = rng.integers(1, 6, 80), rng.integers(1, 6, 80)
    r = metrics.report(t, p, CLASSES)
    prec, rec, f1, support = precision_recall_fscore_support(t, p, labels=CLASSES, zero_division=0)
    for i, c in enumerate(CLASSES):
        assert r["per_class"][str(c)]["precision"] == pytest.approx(prec[i])
        assert r["per_class"][str(c)]["recall"] == pytest.approx(rec[i])
        assert r["per_class"][str(c)]["f1"] == pytest.approx(f1[i])
        assert r["per_class"][str(c)]["support"] == support[i]
    assert r["confusion_matrix"] == metrics.confusion_matrix(t, p, CLASSES).tolist()


def test_scores_are_strict_json():
    r = metrics.report([1, 1], [1, 1], CLASSES)
    extra = {
        "qwk": metrics.quadratic_weighted_kappa([1, 1], [1, 1], CLASSES),
        "mae": metrics.mean_absolute_error([], []),
    }
    text = json.dumps({**r, **extra}, allow_nan=False)
    assert "NaN" not in text and json.loads(text)["qwk"] is None
    assert all(v is None or math.isfinite(v) for v in (r["macro_f1"], r["accuracy"]))


def test_training_metrics_reexports_the_core():
    import training.metrics as tm

    for name in (
        "confusion_matrix",
        "report",
        "patient_votes",
        "evaluate_records",
        "support_warnings",
        "mean_absolute_error",
        "quadratic_weighted_kappa",
        "MIN_PATIENTS",
    ):
        assert getattr(tm, name) is getattr(metrics, name), name
    assert callable(tm.format_result) and callable(tm.save_confusion_png)


def test_feature_cache_moved_to_the_core(tmp_path):
    import training.data
    from sand_gui.feature_cache import FeatureCache, spec_key
    from sand_gui.features import FeatureSpec
    from training.config import spec_key as training_key

    assert training.data.FeatureCache is FeatureCache and training_key is spec_key
    cache = FeatureCache(tmp_path, FeatureSpec())
    assert cache.dir.name == spec_key(FeatureSpec()) and json.loads((cache.dir / "spec.json").read_text())
