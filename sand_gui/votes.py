"""Patient-level decision: majority vote of the per-task classes (the default), or their median.

Majority rule: each valid task votes for its most probable class; the class with most votes
wins. A tie is broken by the highest mean probability, over the voting tasks, among the tied
classes (and, were that tied too, by the more severe class). The rule text travels with
the result so the report can show it.

Median rule (``ordinal_vote``, a model card's ``vote: median``): the classes are ordered
(1 severe .. 5 healthy), so the patient's class is the median of the task votes: a task that
says 1 when the others say 3 and 4 pulls the answer one class, not to its own extreme. With
an even number of votes whose two middle ones differ, the one of the two with the smaller
expected absolute class error under the mean probabilities wins (then the more severe).
``decide`` picks the rule by name (``VOTE_RULES``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TIE_RULE = "ties are broken by the highest mean probability among the tied classes"
MEDIAN_RULE = "median of the task votes; between two middle votes, the smaller expected class error"


@dataclass
class Verdict:
    final_class: int
    votes: dict[int, int]  # class number -> number of tasks voting for it
    n_voting: int
    tie_broken: bool
    tied_classes: list[int]
    mean_probabilities: dict[int, float]
    rule: str = TIE_RULE
    method: str = "majority"  # a key of VOTE_RULES

    @property
    def summary(self) -> str:
        n = self.votes[self.final_class]
        text = f"{n} of {self.n_voting} tasks: class {self.final_class}"
        if self.method == "median":
            text += " (median of the task votes)"
        if self.tie_broken:
            text += f" (tie between classes {', '.join(map(str, self.tied_classes))}; {self.rule})"
        return text


def task_vote(probabilities: np.ndarray, class_numbers: Sequence[int]) -> int:
    """The class a task votes for: the most probable one (ValueError when not finite)."""
    if not np.isfinite(np.asarray(probabilities, dtype=np.float64)).all():
        raise ValueError("probabilities that are not finite cannot vote")
    return int(class_numbers[int(np.argmax(probabilities))])


def _stacked(task_probabilities: Mapping[str, np.ndarray]) -> np.ndarray:
    """The tasks' probabilities [shape=(tasks, n_classes)]; ValueError if none or not finite."""
    if not task_probabilities:
        raise ValueError("no task to vote")
    probs = np.stack([np.asarray(p, dtype=np.float64) for p in task_probabilities.values()])
    if not np.isfinite(probs).all():
        bad = [t for t, p in task_probabilities.items() if not np.isfinite(np.asarray(p, dtype=np.float64)).all()]
        raise ValueError(f"probabilities of {', '.join(map(str, bad))} are not finite; they cannot vote")
    return probs


def majority_vote(task_probabilities: Mapping[str, np.ndarray], class_numbers: Sequence[int]) -> Verdict:
    """Final class from per-task probabilities [each shape=(n_classes,)].

    ValueError if empty, or if any probability is not finite: garbage never votes (the
    pipeline rejects such a task with its reason before it gets here).
    """
    probs = _stacked(task_probabilities)
    votes = {int(c): 0 for c in class_numbers}
    for p in probs:
        votes[task_vote(p, class_numbers)] += 1
    mean = {int(c): float(m) for c, m in zip(class_numbers, probs.mean(axis=0))}
    top = max(votes.values())
    tied = [c for c in class_numbers if votes[c] == top]
    final = min(tied, key=lambda c: (-mean[c], c))
    return Verdict(int(final), votes, len(probs), len(tied) > 1, [int(c) for c in tied], mean)


def ordinal_vote(task_probabilities: Mapping[str, np.ndarray], class_numbers: Sequence[int]) -> Verdict:
    """Final class as the median of the task votes (see the module note); ValueError as
    ``majority_vote``. ``class_numbers`` must be in their order (1..5)."""
    probs = _stacked(task_probabilities)
    numbers = [int(c) for c in class_numbers]
    ballots = sorted(task_vote(p, numbers) for p in probs)
    votes = {c: ballots.count(c) for c in numbers}
    mean_p = probs.mean(axis=0)
    mean = {c: float(m) for c, m in zip(numbers, mean_p)}
    lo, hi = ballots[(len(ballots) - 1) // 2], ballots[len(ballots) // 2]
    rank = {c: i for i, c in enumerate(numbers)}
    ranks = np.arange(len(numbers))

    def expected_error(c: int) -> float:
        return float(np.sum(mean_p * np.abs(ranks - rank[c])))

    final = min({lo, hi}, key=lambda c: (expected_error(c), c))
    tied = sorted({lo, hi})
    return Verdict(final, votes, len(probs), len(tied) > 1, tied, mean, rule=MEDIAN_RULE, method="median")


VOTE_RULES = {"majority": majority_vote, "median": ordinal_vote}


def decide(task_probabilities: Mapping[str, np.ndarray], class_numbers: Sequence[int], *, rule: str = "majority"):
    """The patient's ``Verdict`` by the named rule (a key of ``VOTE_RULES``); ValueError otherwise."""
    if rule not in VOTE_RULES:
        raise ValueError(f"vote rule {rule!r} is unknown; use {' or '.join(VOTE_RULES)}")
    return VOTE_RULES[rule](task_probabilities, class_numbers)
