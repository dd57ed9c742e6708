"""Scores: hand-built predictions with known macro-F1, and the patient-level vote."""

import json

import numpy as np
import pytest

from training.metrics import (
    evaluate_records,
    format_result,
    patient_votes,
    report,
    support_warnings,
)

CLASSES = [1, 2, 3, 4, 5]


def onehot(c: int, p: float = 0.9) -> np.ndarray:
    v = np.full(5, (1 - p) / 4)
    v[c - 1] = p
    return v


def test_report_known_values():
    # class 1: tp 1, fn 1 -> P 1, R 0.5, F1 2/3; class 2: tp 1, fp 1 -> P 0.5, R 1, F1 2/3;
    # class 3: tp 2 -> F1 1; classes 4, 5 absent from truth and predictions: left out.
    r = report([1, 1, 2, 3, 3], [1, 2, 2, 3, 3], CLASSES)
    assert r["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 1) / 3)
    assert r["accuracy"] == pytest.approx(0.8)
    assert r["per_class"]["1"] == pytest.approx({"precision": 1.0, "recall": 0.5, "f1": 2 / 3, "support": 2})
    assert r["per_class"]["2"]["precision"] == pytest.approx(0.5)
    assert r["confusion_matrix"][0] == [1, 1, 0, 0, 0]


def test_report_matches_scikit_learn():
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    t, p = rng.integers(1, 6, 60), rng.integers(1, 6, 60)
    p[p == 4] = 5  # a class that is never predicted
    assert report(t, p, CLASSES)["macro_f1"] == pytest.approx(f1_score(t, p, average="macro", zero_division=0))


def test_patient_level_is_the_majority_vote():
    # patient A (class 2): 5 tasks say 2, 3 say 5 -> 2. patient B (class 4): 4 say 4, 4 say 3,
    # a tie broken by the mean probability -> 4 (its votes are more confident).
    records = [("A", f"t{i}", onehot(2 if i < 5 else 5)) for i in range(8)]
    records += [("B", f"t{i}", onehot(4, 0.95) if i < 4 else onehot(3, 0.6)) for i in range(8)]
    votes = patient_votes(records, CLASSES)
    assert votes["A"].final_class == 2 and votes["B"].final_class == 4 and votes["B"].tie_broken
    res = evaluate_records(records, {"A": 2, "B": 4}, CLASSES)
    assert res["patient_level"]["macro_f1"] == pytest.approx(1.0)
    # recordings: A: 5 right, 3 wrong (predicted 5); B: 4 right, 4 wrong (predicted 3)
    rec = res["recording_level"]
    assert rec["accuracy"] == pytest.approx(9 / 16)
    # F1: class 2: 2*5/(5+8)=10/13, class 4: 2*4/(4+8)=2/3, classes 3 and 5: 0
    assert rec["macro_f1"] == pytest.approx((10 / 13 + 2 / 3) / 4)
    assert "Patient level" in format_result(res)


def test_undefined_scores_are_none_not_zero():
    # class 4: no patient and never predicted -> every score n/a; class 5: no patient but
    # predicted once -> precision 0 (defined), recall n/a, F1 0 (it counts in the macro average)
    r = report([1, 1, 2, 3], [1, 1, 2, 5], CLASSES)
    assert r["per_class"]["4"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    assert r["per_class"]["5"] == {"precision": 0.0, "recall": None, "f1": 0.0, "support": 0}
    assert r["per_class"]["3"] == {"precision": None, "recall": 0.0, "f1": 0.0, "support": 1}
    assert r["averaged_over"] == [1, 2, 3, 5]
    from sklearn.metrics import f1_score

    assert r["macro_f1"] == pytest.approx(f1_score([1, 1, 2, 3], [1, 1, 2, 5], average="macro", zero_division=0))


def test_few_patients_are_flagged_and_absent_classes_read_n_a():
    # 7 patients of class 2, 2 of class 1, none of classes 3, 4, 5 (one predicted 5)
    records = [(f"P{i}", f"t{j}", onehot(2)) for i in range(7) for j in range(8)]
    records += [(f"Q{i}", f"t{j}", onehot(1 if i == 0 else 5)) for i in range(2) for j in range(8)]
    labels = {**{f"P{i}": 2 for i in range(7)}, "Q0": 1, "Q1": 1}
    res = evaluate_records(records, labels, CLASSES)
    warnings = support_warnings(res["patient_level"], CLASSES)
    assert warnings[0].startswith("class 1 has only 2 patients (fewer than 5)")
    assert [w.split()[1] for w in warnings] == ["1", "3", "4", "5"] and "no patient" in warnings[1]
    text = format_result(res)
    lines = text.splitlines()
    patient = lines[lines.index(next(l for l in lines if l.startswith("Patient level"))) :]
    row = {l.split()[0]: l.split() for l in patient[2:7]}
    assert row["2"][:2] == ["2", "7"] and row["2"][2:5] == ["1.000", "1.000", "1.000"]  # support next to the scores
    assert row["1"][1] == "2" and row["1"][-1] == "(few)"
    assert row["4"][1:] == ["0", "n/a", "n/a", "n/a"]
    assert row["5"][1:] == ["0", "0.000", "n/a", "0.000"]
    assert "warning: class 1 has only 2 patients" in text and "0.000" not in row["4"]
    json.dumps(res, allow_nan=False)  # undefined scores are null, the JSON strict
