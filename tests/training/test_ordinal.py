"""Ordinal training: the CORN loss, its decoding into class probabilities (one place, the core's
``sand_gui.model.class_probabilities``), the median vote, the card fields that tell the app
which to use, and MAE / QWK beside macro-F1 in every evaluation."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sandtest import make_tiny_bundle
from train_helpers import write_config

from sand_gui.bundle import ModelCard, load_bundle, read_card, save_bundle
from sand_gui.errors import BundleError
from sand_gui.metrics import evaluate_records
from sand_gui.model import Classifier, build_network, class_probabilities
from sand_gui.votes import VOTE_RULES, decide, majority_vote, ordinal_vote
from training.config import load_config
from training.losses import corn_loss, make_loss

CLASSES = [1, 2, 3, 4, 5]
_logits = st.lists(st.floats(-8, 8), min_size=5, max_size=5)


def corn_by_hand(logits: torch.Tensor, target: torch.Tensor) -> float:
    """The paper's loss written the slow way: for each task k, BCE over the samples with y >= k."""
    total, count = 0.0, 0
    for k in range(logits.shape[1] - 1):
        for z, y in zip(logits[:, k].tolist(), target.tolist()):
            if y >= k:
                p = 1 / (1 + math.exp(-z))
                total -= math.log(p) if y > k else math.log(1 - p)
                count += 1
    return total / count


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(_logits, st.integers(0, 4)), min_size=1, max_size=6))
def test_corn_loss_is_the_papers_conditional_sum(rows):
    logits = torch.tensor([r[0] for r in rows])
    target = torch.tensor([r[1] for r in rows])
    assert float(corn_loss(logits, target)) == pytest.approx(corn_by_hand(logits, target), rel=1e-4, abs=1e-5)


def test_corn_ignores_the_fifth_output_and_weights_scale_samples():
    z = torch.randn(6, 5)
    y = torch.tensor([0, 1, 2, 3, 4, 4])
    moved = z.clone()
    moved[:, 4] += 100.0
    assert float(corn_loss(z, y)) == pytest.approx(float(corn_loss(moved, y)))
    w = torch.tensor([1.0, 1.0, 1.0, 1.0, 3.0])  # class 5 counted three times = three copies of each
    tripled_z, tripled_y = torch.cat([z[:4], z[4:].repeat(3, 1)]), torch.cat([y[:4], y[4:].repeat(3)])
    assert float(corn_loss(z, y, weight=w)) == pytest.approx(float(corn_loss(tripled_z, tripled_y)), rel=1e-5)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(_logits, min_size=1, max_size=5))
def test_corn_probabilities_are_a_rank_consistent_distribution(rows):
    p = class_probabilities(torch.tensor(rows), objective="corn")
    assert torch.all(p >= 0)
    assert torch.allclose(p.sum(-1), torch.ones(len(rows)), atol=1e-5)
    above = 1 - torch.cumsum(p, -1)[:, :-1]  # P(class index > k): never rises with k
    assert torch.all(above[:, 1:] <= above[:, :-1] + 1e-6)


def test_softmax_objective_is_the_old_softmax_and_an_unknown_one_is_refused():
    z = torch.randn(3, 5)
    assert torch.allclose(class_probabilities(z), torch.softmax(z, -1))
    with pytest.raises(BundleError, match="objective 'bogus' is unknown"):
        class_probabilities(z, objective="bogus")


def test_corn_learns_an_ordered_problem():
    """Logits fitted with CORN decode to the true classes: the loss and the decoding agree."""
    torch.manual_seed(0)
    y = torch.arange(5).repeat(8)
    z = torch.zeros(len(y), 5, requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.1)
    for _ in range(200):
        opt.zero_grad()
        corn_loss(z, y).backward()
        opt.step()
    assert torch.equal(class_probabilities(z.detach(), objective="corn").argmax(-1), y)


def test_make_loss_picks_corn_from_the_config():
    cfg = load_config(None, ["loss=corn"])
    z, y = torch.randn(4, 5), torch.tensor([0, 1, 3, 4])
    assert float(make_loss(cfg, None)(z, y)) == pytest.approx(float(corn_loss(z, y)))


# --- votes ------------------------------------------------------------------------------


def _tasks(*classes: int) -> dict:
    return {f"t{i}": np.eye(5)[c - 1] * 0.8 + 0.04 for i, c in enumerate(classes)}


def test_median_vote_is_not_pulled_to_an_extreme():
    tasks = _tasks(1, 1, 3, 4, 4, 4, 3)
    assert majority_vote(tasks, CLASSES).final_class == 4
    v = ordinal_vote(tasks, CLASSES)
    assert v.final_class == 3 and v.method == "median" and not v.tie_broken
    assert "median" in v.summary


def test_median_vote_between_two_middle_votes_takes_the_smaller_expected_error():
    tasks = _tasks(2, 2, 4, 4)
    tasks["t0"] = np.array([0.0, 0.9, 0.1, 0.0, 0.0])  # more mass near 2
    v = ordinal_vote(tasks, CLASSES)
    assert v.final_class == 2 and v.tie_broken and v.tied_classes == [2, 4]
    assert decide(tasks, CLASSES, rule="median") == v
    assert decide(tasks, CLASSES) == majority_vote(tasks, CLASSES)
    assert set(VOTE_RULES) == {"majority", "median"}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=8))
def test_median_vote_lies_between_the_middle_votes(classes):
    v = ordinal_vote(_tasks(*classes), CLASSES)
    s = sorted(classes)
    assert v.final_class in (s[(len(s) - 1) // 2], s[len(s) // 2])
    assert sum(v.votes.values()) == len(classes)


def test_votes_refuse_garbage_and_unknown_rules():
    with pytest.raises(ValueError, match="not finite"):
        ordinal_vote({"a": np.array([np.nan, 0, 0, 0, 1.0])}, CLASSES)
    with pytest.raises(ValueError, match="no task"):
        ordinal_vote({}, CLASSES)
    with pytest.raises(ValueError, match="unknown"):
        decide(_tasks(3), CLASSES, rule="mean")


def test_evaluation_reports_mae_and_qwk_beside_macro_f1_and_honours_the_rule():
    records = [(p, t, pr) for p, cls in (("A", [1, 1, 3, 4, 4, 4, 3]),) for t, pr in _tasks(*cls).items()]
    records += [(p, t, pr) for p, cls in (("B", [5] * 8),) for t, pr in _tasks(*cls).items()]
    labels = {"A": 3, "B": 5}
    major = evaluate_records(records, labels, CLASSES)
    median = evaluate_records(records, labels, CLASSES, rule="median")
    assert major["vote"] == "majority" and median["vote"] == "median"
    assert major["patient_level"]["mean_absolute_error"] == pytest.approx(0.5)  # A -> 4: one class off
    assert median["patient_level"]["mean_absolute_error"] == 0.0
    assert median["patient_level"]["quadratic_weighted_kappa"] == pytest.approx(1.0)
    for level in ("recording_level", "patient_level"):
        assert {"macro_f1", "mean_absolute_error", "quadratic_weighted_kappa"} <= set(major[level])
    json.dumps(major, allow_nan=False)


# --- the card tells the app which decoding to use ------------------------------------------


def _corn_bundle(path, *, vote="median"):
    torch.manual_seed(1)
    src = make_tiny_bundle(path.with_name("src.safetensors"))
    card = read_card(src)
    card.objective, card.vote, card.weights_sha256, card.bundle_sha256 = "corn", vote, "", ""
    return save_bundle(path, load_bundle(src).state_dict, card)


def test_card_objective_and_vote_round_trip_and_the_classifier_decodes_corn(tmp_path):
    old = read_card(make_tiny_bundle(tmp_path / "old.safetensors"))
    assert (old.objective, old.vote) == ("softmax", "majority")
    assert "objective" not in old.to_dict() and "vote" not in old.to_dict()  # old cards keep their bytes
    path = _corn_bundle(tmp_path / "corn.safetensors")
    card = read_card(path)
    assert (card.objective, card.vote) == ("corn", "median")
    clf = Classifier.from_file(path, device="cpu")
    x = torch.randn(3, 3, card.spec.n_mels, card.spec.n_frames)
    with torch.inference_mode():
        expected = class_probabilities(clf.network(x), objective="corn").numpy()
    probs, _ = clf.predict(x)
    assert np.allclose(probs, expected, atol=1e-6)
    assert not np.allclose(probs, torch.softmax(clf.network(x), -1).detach().numpy(), atol=1e-3)


@pytest.mark.parametrize("field,value", [("objective", "coral"), ("vote", "mean"), ("objective", 3)])
def test_a_card_with_an_unknown_objective_or_vote_is_one_sentence(tmp_path, field, value):
    net = build_network("convnext_atto", num_classes=5, arch_kwargs={"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]})
    card = read_card(make_tiny_bundle(tmp_path / "a.safetensors"))
    setattr(card, field, value)
    card.weights_sha256 = card.bundle_sha256 = ""
    with pytest.raises(BundleError) as info:
        save_bundle(tmp_path / "b.safetensors", net.state_dict(), card)
    text = str(info.value)
    assert f"model card {field}" in text and "\n" not in text and text.endswith(".")
    assert not (tmp_path / "b.safetensors").exists()


def test_model_card_defaults_match_the_schema():
    from sand_gui.card_schema import OPTIONAL_FIELDS
    from sand_gui.features import FeatureSpec

    card = ModelCard(name="x", architecture="convnext_atto", spec=FeatureSpec())
    assert card.objective == OPTIONAL_FIELDS["objective"][0] and card.vote == OPTIONAL_FIELDS["vote"][0]


# --- end to end: fit with CORN and the median vote, evaluate ------------------------------


@pytest.mark.slow
def test_fit_with_corn_writes_a_corn_card_and_evaluate_reports_ordinal_scores(tmp_path, corpus, cache_dir, capsys):
    from training.loop import fit

    cfg = load_config(
        write_config(
            tmp_path / "corn.yaml",
            data=str(corpus),
            cache=str(cache_dir),
            run_dir=str(tmp_path / "run"),
            loss="corn",
            vote="median",
            epochs=1,
        )
    )
    result = fit(cfg)
    card = read_card(result.bundle)
    assert (card.objective, card.vote) == ("corn", "median")
    assert card.training_data["recipe"]["loss"] == "corn" and card.training_data["recipe"]["vote"] == "median"
    assert all(math.isfinite(row["train_loss"]) for row in result.history)
    from training.cli import main

    assert main(["evaluate", "--model", str(result.bundle), "--data", str(corpus), "--json", "--quiet"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["vote"] == "median"
    for level in ("recording_level", "patient_level"):
        assert res[level]["mean_absolute_error"] is not None and 0 <= res[level]["mean_absolute_error"] <= 4
        assert "quadratic_weighted_kappa" in res[level]
    assert main(["evaluate", "--model", str(result.bundle), "--data", str(corpus), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "Patient level (median vote over tasks)" in text and "MAE" in text
