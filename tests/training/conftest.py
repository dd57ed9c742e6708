"""Fixtures of the training tests (helpers in ``train_helpers``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from train_helpers import make_corpus, write_config


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("sand"))


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def tiny_config(tmp_path, corpus, cache_dir) -> Path:
    return write_config(tmp_path / "tiny.yaml", data=str(corpus), cache=str(cache_dir))


@pytest.fixture(scope="session")
def trained(tmp_path_factory, corpus, cache_dir):
    """One finished tiny run, shared by the tests that only read it."""
    from training.config import load_config
    from training.loop import fit

    out = tmp_path_factory.mktemp("run")
    cfg = load_config(write_config(out / "tiny.yaml", data=str(corpus), cache=str(cache_dir), run_dir=str(out / "run")))
    return fit(cfg)
