"""Test helpers shared by the suites: tiny generated signals and a tiny random bundle.

A module of its own (not ``conftest``, a name that ``tests/training`` also uses) so that
every test imports it by one unambiguous name. The bundle built here has random weights
and is for tests only; it is never shipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sand_gui.features import FeatureSpec
from sand_gui.tasks import TASK_IDS, get_task

# A small spec like the bundled model's (8 kHz SAND-like audio) keeps tests fast.
TEST_SPEC = FeatureSpec(
    sample_rate=8000,
    n_fft=512,
    hop_length=128,
    n_mels=64,
    rhythm_band=(100.0, 4000.0),
    bandlimit_hz=4000.0,
    n_frames=64,
    vad_frame_length=512,
    vad_hop_length=128,
)
TINY_ARCH = "convnext_atto"
TINY_KWARGS = {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]}


def vowel(
    seconds: float = 2.0, *, sr: int = 8000, f0: float = 140.0, lead: float = 0.5, level: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A harmonic 'vowel' with ``lead`` s of faint noise before and after."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    v = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 12) if f0 * k < sr / 2)
    v = level * v / np.abs(v).max()
    pad = int(lead * sr)
    x = np.concatenate([np.zeros(pad), v, np.zeros(pad)])
    return (x + 1e-4 * rng.standard_normal(len(x))).astype(np.float32)


def ddk(seconds: float = 2.0, *, sr: int = 8000, rate: float = 5.0, lead: float = 0.5, seed: int = 0) -> np.ndarray:
    """A /pa/-like train: noise bursts + short vowels at ``rate`` syllables per second."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = np.zeros(n)
    period = int(sr / rate)
    for s in range(0, n - period, period):
        x[s : s + 80] += 0.3 * rng.standard_normal(80)
        t = np.arange(period // 2) / sr
        x[s + 80 : s + 80 + len(t)] += 0.3 * np.sin(2 * np.pi * 150 * t) * np.hanning(len(t))
    pad = int(lead * sr)
    x = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    return (x + 1e-4 * rng.standard_normal(len(x))).astype(np.float32)


def task_signal(task_id: str, *, seed: int = 0, sr: int = 8000) -> np.ndarray:
    if get_task(task_id).family == "phonation":
        return vowel(2.5, sr=sr, f0=120 + 10 * TASK_IDS.index(task_id), seed=seed)
    return ddk(2.5, sr=sr, seed=seed)


def make_tiny_bundle(path: Path, *, seed: int = 0, spec: FeatureSpec = TEST_SPEC) -> Path:
    import torch

    from sand_gui.bundle import ModelCard, save_bundle
    from sand_gui.model import build_network

    torch.manual_seed(seed)
    net = build_network(TINY_ARCH, num_classes=5, arch_kwargs=TINY_KWARGS)
    card = ModelCard(
        name="tiny-test-model",
        architecture=TINY_ARCH,
        arch_kwargs=TINY_KWARGS,
        spec=spec,
        training_data={"description": "none: random weights for tests", "synthetic": True},
    )
    return save_bundle(path, net.state_dict(), card)
