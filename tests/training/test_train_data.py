"""Data: splits by patient, oversampling, sampler shares, the feature cache."""

from collections import Counter

import pytest
import torch
from train_helpers import TINY_FEATURES, TRAIN, VAL

from sand_gui.dataset import Patient, SandLayout
from sand_gui.errors import DatasetError
from training.config import make_spec
from training.data import (
    OversampledSampler,
    check_disjoint,
    class_counts,
    list_recordings,
    load_items,
    oversampled_indices,
    random_window,
    select_patients,
)
from training.evaluate import preprocess


def test_oversampling_counts_follow_the_factors():
    labels = [1] * 2 + [2] * 3 + [3] * 4 + [4] * 5 + [5] * 6
    idx = oversampled_indices(labels, {1: 21, 2: 5, 3: 2})
    assert Counter(labels[i] for i in idx) == {1: 42, 2: 15, 3: 8, 4: 5, 5: 6}
    assert class_counts(labels, {1: 21, 2: 5, 3: 2}) == {1: 42, 2: 15, 3: 8, 4: 5, 5: 6}


@pytest.mark.parametrize("world", [1, 2, 3])
def test_sampler_ranks_share_one_oversampled_epoch(world):
    labels = [1, 2, 3, 4, 5, 5, 4]
    samplers = [OversampledSampler(labels, {1: 21, 2: 5, 3: 2}, seed=3, rank=r, world=world) for r in range(world)]
    for s in samplers:
        s.set_epoch(4)
    drawn = [i for s in samplers for i in s]
    assert all(len(list(s)) == len(samplers[0]) for s in samplers)
    expected = Counter(oversampled_indices(labels, {1: 21, 2: 5, 3: 2}))
    got = Counter(drawn)
    assert all(got[i] >= n for i, n in expected.items()) and len(drawn) - sum(expected.values()) < world


def test_sampler_order_depends_on_epoch_only():
    s = OversampledSampler([1, 2, 3, 4, 5] * 3, {1: 21}, seed=3)
    s.set_epoch(4)
    a = list(s)
    s.set_epoch(5)
    assert list(s) != a
    s.set_epoch(4)
    assert list(s) == a


def test_splits_refuse_a_patient_in_two():
    a, b = Patient("ID001", label=1), Patient("ID002", label=2)
    check_disjoint({"train": [a], "val": [b]})
    with pytest.raises(DatasetError, match="ID001 is in both"):
        check_disjoint({"train": [a, b], "val": [a]})


def test_official_sheets_and_aliases(corpus):
    layout = SandLayout(corpus)
    assert [p.id for p in select_patients(layout, "train")] == list(TRAIN)
    assert [p.id for p in select_patients(layout, "val")] == list(VAL)
    assert [p.id for p in select_patients(layout, "test")] == ["ID016", "ID017", "ID018"]


def test_manifest_split(tmp_path):
    (tmp_path / "labels.csv").write_text("ID,Age,Sex,Class,Split\nID001,50,M,2,train\nID002,51,F,3,val\n")
    layout = SandLayout(tmp_path)
    assert [p.id for p in select_patients(layout, "labels.csv:val")] == ["ID002"]
    assert len(select_patients(layout, "labels.csv")) == 2


def test_random_window_pads_and_crops():
    g = torch.Generator().manual_seed(0)
    assert random_window(torch.ones(3, 4, 10), n_frames=16, generator=g).shape == (3, 4, 16)
    x = torch.arange(40.0).expand(3, 4, 40)
    w = random_window(x, n_frames=16, generator=g)
    assert w.shape == (3, 4, 16) and torch.equal(w[0, 0], torch.arange(w[0, 0, 0], w[0, 0, 0] + 16))


def test_cache_is_keyed_by_spec_and_reused(corpus, tmp_path):
    spec = make_spec(TINY_FEATURES)
    first = preprocess(corpus, tmp_path, spec, sheets=["val"])
    again = preprocess(corpus, tmp_path, spec, sheets=["val"])
    assert first["computed"] == 40 and again["computed"] == 0 and again["reused"] == 40
    other = preprocess(corpus, tmp_path, make_spec({**TINY_FEATURES, "n_mels": 40}), sheets=["val"])
    assert other["computed"] == 40 and other["cache"] != first["cache"]
    # cached features are exactly the core's
    layout = SandLayout(corpus)
    refs, _ = list_recordings(layout, select_patients(layout, "val")[:1])
    cached, _ = load_items(refs, spec=spec, cache=tmp_path)
    fresh, _ = load_items(refs, spec=spec)
    assert all(torch.equal(a.features, b.features) for a, b in zip(cached, fresh))
