"""The patient's class as the product shows it (sand_gui.decision): the fused verdict's class
when there is one, the vote otherwise, never a class below the quality gate or while the
measures a bundle decides with are not in; the network's vote always said beside it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sand_gui.classes import DEFAULT_LABELS
from sand_gui.decision import patient_class
from sand_gui.fusion import FusedVerdict
from sand_gui.pipeline import AnalysisResult, TaskResult
from sand_gui.tasks import TASK_IDS
from sand_gui.votes import majority_vote

CLASSES = [1, 2, 3, 4, 5]


def result(votes: list[int], *, measures_model: bool = False, rejected: int = 0) -> AnalysisResult:
    """An analysis whose tasks vote ``votes`` (then ``rejected`` tasks refused)."""
    tasks, probs = [], {}
    for task, c in zip(TASK_IDS, votes):
        p = np.full(5, 0.1)
        p[c - 1] = 0.6
        probs[task] = p
        tasks.append(TaskResult(task, f"{task}.wav", c, dict(zip(CLASSES, p.tolist()))))
    for task in TASK_IDS[len(votes) : len(votes) + rejected]:
        tasks.append(TaskResult(task, f"{task}.wav", error="too short."))
    verdict = majority_vote(probs, CLASSES) if probs else None
    label = None if verdict is None else DEFAULT_LABELS[verdict.final_class]
    return AnalysisResult(tasks, verdict, label, {"measures_model": measures_model}, "cpu", "", 0.0)


def fused(final: int | None, used: str = "measures", reason: str = "measures only: validation") -> FusedVerdict:
    return FusedVerdict(final, {}, used, reason)


def test_without_a_measures_model_the_vote_is_the_class():
    r = result([4, 4, 4, 4, 4, 3, 3, 3])
    d = patient_class(r)
    assert (d.number, d.label, d.decided_by, d.network_class) == (4, "ALS without dysarthria", "network", 4)
    assert d.heading == "Class 4 — ALS without dysarthria" and not d.overrides_vote and not d.waiting
    assert d.vote_text() == "5 of 8 tasks: class 4." and d.decided_text() == "Decided by the network's vote."


def test_the_fused_class_is_shown_and_the_differing_vote_said_beside_it():
    r = result([4, 4, 4, 4, 4, 3, 3, 3], measures_model=True)
    d = patient_class(r, fused(2, reason="measures only: fixed by the bundle's maker: never heard"))
    assert (d.number, d.label, d.decided_by, d.network_class) == (2, "Moderate dysarthria", "measures", 4)
    assert d.heading == "Class 2 — Moderate dysarthria" and d.overrides_vote
    assert d.vote_text() == "The network's vote differs: 5 of 8 tasks: class 4."
    assert d.decided_text() == (
        "Decided by the Praat measures classifier (measures only: fixed by the bundle's maker: never heard)."
    )
    assert json.loads(json.dumps(d.to_dict(), allow_nan=False)) == {
        "class": 2,
        "label": "Moderate dysarthria",
        "decided_by": "measures",
        "reason": "measures only: fixed by the bundle's maker: never heard",
        "network_class": 4,
        "waiting_for_measures": False,
    }
    agree = patient_class(r, fused(4, used="fusion", reason="fusion of the network (w=0.60) and the measures"))
    assert agree.vote_text().startswith("The network's vote agrees:") and agree.decided_by == "fusion"


def test_measures_unusable_the_vote_decides_and_says_why():
    r = result([3] * 8, measures_model=True)
    d = patient_class(r, fused(3, used="network", reason="network only: no measure could be taken"))
    assert (d.number, d.decided_by, d.overrides_vote) == (3, "network", False)
    assert d.decided_text() == "Decided by the network's vote (network only: no measure could be taken)."


def test_waiting_for_the_measures_no_class_is_claimed():
    r = result([5] * 8, measures_model=True)
    d = patient_class(r)  # the bundle decides with its measures; they are not in
    assert d.number is None and d.waiting and d.network_class == 5
    assert d.heading == "Network vote: class 5 — Healthy control"
    assert "Not the patient's class yet" in d.decided_text() and "Praat measures" in d.decided_text()
    assert d.decided_text(measuring="3 of 8 tasks").endswith("which are being taken (3 of 8 tasks measured).")
    assert d.decided_text(measuring="").endswith("which were not taken for these recordings: analyse again.")
    assert d.to_dict()["class"] is None and d.to_dict()["waiting_for_measures"] is True


@pytest.mark.parametrize("measures_model", [False, True])
def test_below_the_quality_gate_no_class_whatever_was_fused(measures_model):
    r = result([2, 2, 2, 2], measures_model=measures_model, rejected=4)  # 4 usable of 8: below the gate
    assert not r.quality_ok
    d = patient_class(r, fused(1))
    assert d.number is None and not d.waiting and d.decided_text() == ""
    assert d.heading == "Recording quality too low for a verdict" and d.reason == r.quality_message
    assert d.network_class == 2  # the vote of the usable tasks is kept, not claimed


def test_no_usable_task_no_class():
    d = patient_class(result([], rejected=8), fused(None))
    assert d.number is None and d.network_class is None and d.vote_text() == ""


def test_the_cards_labels_win():
    r = result([4] * 8, measures_model=True)
    labels = {c: f"L{c}" for c in CLASSES}
    d = patient_class(r, fused(1), labels=labels)
    assert (d.label, d.network_label) == ("L1", "L4")


def test_the_windows_short_form_cuts_a_long_reason_at_a_colon():
    long = "measures only: fixed by the bundle's maker: " + "the measures carry over " * 10
    d = patient_class(result([3] * 8, measures_model=True), fused(3, reason=long))
    assert d.decided_text(limit=90) == (
        "Decided by the Praat measures classifier (measures only: fixed by the bundle's maker …)."
    )
    assert d.decided_text() == f"Decided by the Praat measures classifier ({long})."  # the reports keep it whole
    short = patient_class(result([3] * 8), fused(3, reason="measures only: validation"))
    assert short.decided_text(limit=90) == short.decided_text()
