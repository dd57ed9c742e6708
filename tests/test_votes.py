import numpy as np
import pytest

from sand_gui.votes import TIE_RULE, majority_vote, task_vote

C = [1, 2, 3, 4, 5]


def onehot(c, p=0.9):
    v = np.full(5, (1 - p) / 4)
    v[c - 1] = p
    return v


def test_plain_majority():
    probs = {f"t{i}": onehot(c) for i, c in enumerate([3, 3, 3, 4, 4, 5, 3, 2])}
    v = majority_vote(probs, C)
    assert v.final_class == 3 and v.votes[3] == 4 and v.n_voting == 8 and not v.tie_broken
    assert v.summary == "4 of 8 tasks: class 3"


def test_tie_broken_by_highest_mean_probability():
    probs = {"a": onehot(2, 0.9), "b": onehot(2, 0.5), "c": onehot(4, 0.95), "d": onehot(4, 0.9)}
    v = majority_vote(probs, C)
    assert v.tie_broken and v.tied_classes == [2, 4] and v.final_class == 4
    assert TIE_RULE in v.summary
    probs["c"] = onehot(4, 0.4)
    probs["d"] = onehot(4, 0.4)
    assert majority_vote(probs, C).final_class == 2


def test_exact_tie_goes_to_the_more_severe_class():
    probs = {"a": onehot(2, 0.8), "b": onehot(4, 0.8)}
    assert majority_vote(probs, C).final_class == 2


def test_empty_vote_is_an_error():
    with pytest.raises(ValueError):
        majority_vote({}, C)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_probabilities_never_vote(bad):
    probs = {"a": onehot(3), "b": onehot(3), "c": onehot(2)}
    probs["c"][0] = bad
    with pytest.raises(ValueError, match="c are not finite"):
        majority_vote(probs, C)
    with pytest.raises(ValueError, match="not finite"):
        task_vote(probs["c"], C)
