"""Helpers of the training tests: a tiny SAND-layout corpus (tones and noise bursts whose
pitch and rate follow the class) and a tiny ConvNeXt config, so every test runs in seconds
on a CPU. (A uniquely named module: ``conftest`` is taken by tests/conftest.py.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

from sand_gui.dataset import TEST_SHEET, TEST_WORKBOOK, TRAIN_SHEET, TRAINING_SHEET, VALIDATION_SHEET, WORKBOOK
from sand_gui.tasks import TASKS

REPO = Path(__file__).resolve().parents[2]
SR = 8000

TINY_FEATURES = {
    "sample_rate": SR,
    "n_fft": 512,
    "hop_length": 128,
    "n_mels": 32,
    "phonation_band": [50, 4000],
    "rhythm_band": [100, 4000],
    "bandlimit_hz": 4000,
    "n_frames": 32,
    "vad_frame_length": 512,
    "vad_hop_length": 128,
    "min_voiced_seconds": 0.3,
}
TINY_CONFIG = {
    "name": "tiny",
    "features": TINY_FEATURES,
    "architecture": "convnext_atto",
    "arch_kwargs": {"depths": [1, 1, 1, 1], "dims": [8, 16, 32, 64]},
    "init_weights": None,
    "epochs": 3,
    "batch_size": 8,
    "lr": 3e-3,
    "device": "cpu",
    "amp": False,
    "seed": 7,
    "oversample": {1: 2, 2: 2},
    "synthetic": True,
    "data_description": "test tones",
}
# patient -> class; the first 10 form the training baseline, the last 5 the validation
TRAIN = {f"ID{i:03d}": c for i, c in zip(range(1, 11), [1, 2, 3, 4, 5, 1, 2, 3, 4, 5])}
VAL = {f"ID{i:03d}": c for i, c in zip(range(11, 16), [1, 2, 3, 4, 5])}
TEST = [16, 17, 18]


def tone(label: int, task, rng, *, seconds: float = 1.2) -> np.ndarray:
    """A phonation: harmonic tone at 100 + 70*label Hz; a rhythm: voiced bursts at 2 + label per s."""
    t = np.arange(int(seconds * SR)) / SR
    if task.family == "phonation":
        f0 = 100 + 70 * label
        x = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 6))
    else:  # voiced syllables (a noise onset + a harmonic vowel) at 2 + label per second
        gate = np.sin(2 * np.pi * (2 + label) * t) > 0.3
        voiced = sum(np.sin(2 * np.pi * k * 150 * t) / k for k in range(1, 6))
        x = (0.5 * rng.standard_normal(len(t)) + voiced) * gate
    x = 0.3 * x / np.max(np.abs(x)) + 0.002 * rng.standard_normal(len(t))
    pad = np.zeros(int(0.15 * SR))
    return np.concatenate([pad, x, pad]).astype(np.float32)


def write_sheet(wb, name: str, rows: list[tuple]) -> None:
    ws = wb.create_sheet(name)
    ws.append(["ID", "Age", "Sex", "Class"])
    for r in rows:
        ws.append(list(r))


def make_corpus(root: Path, *, train=TRAIN, val=VAL, test=TEST, seed: int = 0) -> Path:
    import openpyxl

    rng = np.random.default_rng(seed)
    everyone = {**train, **val}
    for pid, label in everyone.items():
        for task in TASKS:
            path = root / "training" / task.id / f"{pid}_{task.id}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(label, task, rng), SR, subtype="PCM_16")
    for n in test:
        for task in TASKS:
            path = root / "test" / task.id / f"ID{n:03d}_{task.id}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, tone(3, task, rng), SR, subtype="PCM_16")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    rows = {pid: (pid, 60, "M", label) for pid, label in everyone.items()}
    write_sheet(wb, TRAINING_SHEET, list(rows.values()))
    write_sheet(wb, TRAIN_SHEET, [rows[p] for p in train])
    write_sheet(wb, VALIDATION_SHEET, [rows[p] for p in val])
    wb.save(root / WORKBOOK)
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    write_sheet(wb, TEST_SHEET, [(n, 60, "F", None) for n in test])
    wb.save(root / TEST_WORKBOOK)
    return root


def write_config(path: Path, **changes) -> Path:
    path.write_text(yaml.safe_dump({**TINY_CONFIG, **changes}), encoding="utf-8")
    return path


def run_cli(*args: str, cwd: Path = REPO, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m training ARGS`` in a fresh interpreter, as a user would run it."""
    env = dict(os.environ, PYTHONPATH=str(REPO), **(extra_env or {}))
    return subprocess.run(
        [sys.executable, "-m", "training", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
