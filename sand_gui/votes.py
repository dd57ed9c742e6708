"""Patient-level decision: majority vote of the per-task classes.

Rule: each valid task votes for its most probable class; the class with most votes wins.
A tie is broken by the highest mean probability, over the voting tasks, among the tied
classes (and, were that tied too, by the more severe class). The rule text travels with
the result so the report can show it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

TIE_RULE = "ties are broken by the highest mean probability among the tied classes"


@dataclass
class Verdict:
    final_class: int
    votes: dict[int, int]  # class number -> number of tasks voting for it
    n_voting: int
    tie_broken: bool
    tied_classes: list[int]
    mean_probabilities: dict[int, float]
    rule: str = TIE_RULE

    @property
    def summary(self) -> str:
        n = self.votes[self.final_class]
        text = f"{n} of {self.n_voting} tasks: class {self.final_class}"
        if self.tie_broken:
            text += f" (tie between classes {', '.join(map(str, self.tied_classes))}; {self.rule})"
        return text


def task_vote(probabilities: np.ndarray, class_numbers: Sequence[int]) -> int:
    """The class a task votes for: the most probable one (ValueError when not finite)."""
    if not np.isfinite(np.asarray(probabilities, dtype=np.float64)).all():
        raise ValueError("probabilities that are not finite cannot vote")
    return int(class_numbers[int(np.argmax(probabilities))])


def majority_vote(task_probabilities: Mapping[str, np.ndarray], class_numbers: Sequence[int]) -> Verdict:
    """Final class from per-task probabilities [each shape=(n_classes,)].

    ValueError if empty, or if any probability is not finite: garbage never votes (the
    pipeline rejects such a task with its reason before it gets here).
    """
    if not task_probabilities:
        raise ValueError("no task to vote")
    probs = np.stack([np.asarray(p, dtype=np.float64) for p in task_probabilities.values()])
    if not np.isfinite(probs).all():
        bad = [t for t, p in task_probabilities.items() if not np.isfinite(np.asarray(p, dtype=np.float64)).all()]
        raise ValueError(f"probabilities of {', '.join(map(str, bad))} are not finite; they cannot vote")
    votes = {int(c): 0 for c in class_numbers}
    for p in probs:
        votes[task_vote(p, class_numbers)] += 1
    mean = {int(c): float(m) for c, m in zip(class_numbers, probs.mean(axis=0))}
    top = max(votes.values())
    tied = [c for c in class_numbers if votes[c] == top]
    final = min(tied, key=lambda c: (-mean[c], c))
    return Verdict(int(final), votes, len(probs), len(tied) > 1, [int(c) for c in tied], mean)
