"""Helpers for the fusion tests: a tiny real XGBoost model and a tiny fused bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sandtest import TEST_SPEC, make_tiny_bundle

from sand_gui.measures.vector import FEATURE_NAMES, measures_identity


def training_vectors(n: int = 40, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Vectors whose first measure separates the five classes (indices 0..4), a few NaNs."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 5
    x = rng.normal(size=(n, len(FEATURE_NAMES))).astype(np.float32)
    x[:, 0] = y * 10 + rng.normal(size=n)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[:, 0] = y * 10 + rng.normal(size=n)
    return x, y


def measures_model_json(*, n_classes: int = 5, n_features: int = len(FEATURE_NAMES), seed: int = 0) -> bytes:
    """XGBoost's native JSON of a small multi:softprob model (real training, a few trees)."""
    import xgboost as xgb

    x, y = training_vectors(seed=seed)
    x = x[:, :n_features] if n_features <= x.shape[1] else np.pad(x, ((0, 0), (0, n_features - x.shape[1])))
    y = y % n_classes
    params = {"objective": "multi:softprob", "num_class": n_classes, "max_depth": 2, "nthread": 1, "seed": 0}
    booster = xgb.train(params, xgb.DMatrix(x, label=y, missing=np.nan), num_boost_round=5)
    return bytes(booster.save_raw("json"))


def fusion_section(*, decision: str = "weighted", w: float = 0.5, names=FEATURE_NAMES, validation=None) -> dict:
    return {
        "feature_names": list(names),
        "measures": measures_identity(sample_rate=TEST_SPEC.sample_rate),
        "decision": decision,
        "w_network": w,
        "model_sha256": "0" * 64,
        "validation": validation if validation is not None else {"patients": 0},
        "training": {"patients": 40},
    }


def make_fused_bundle(path: Path, *, raw: bytes | None = None, **section) -> Path:
    """A tiny random ConvNeXt bundle carrying a tiny real measures model and a fusion section."""
    from sand_gui.bundle import load_bundle, save_bundle

    plain = make_tiny_bundle(path.with_name(path.stem + "-plain.safetensors"))
    bundle = load_bundle(plain)
    bundle.card.fusion = fusion_section(**section)
    return save_bundle(path, bundle.state_dict, bundle.card, measures_model=raw or measures_model_json())
