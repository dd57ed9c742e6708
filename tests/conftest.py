"""Shared fixtures: tiny generated recordings and a tiny randomly initialised bundle.

The helpers behind them live in ``tests/sandtest.py``; the bundle is for tests only
(random weights) and is never shipped.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import soundfile as sf

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sandtest import make_tiny_bundle, task_signal  # noqa: E402

from sand_gui.tasks import TASK_IDS  # noqa: E402


@pytest.fixture
def patient_dir(tmp_path: Path) -> Path:
    """A folder with the eight tasks of patient ID042 as 16-bit 8 kHz WAV files."""
    folder = tmp_path / "ID042"
    folder.mkdir()
    for i, task_id in enumerate(TASK_IDS):
        sf.write(folder / f"ID042_{task_id}.wav", task_signal(task_id, seed=i), 8000, subtype="PCM_16")
    return folder


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory) -> Path:
    """A randomly initialised tiny ConvNeXt bundle (tests only)."""
    return make_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny.safetensors")


def pytest_terminal_summary(terminalreporter):
    """Nothing a user needs may hide in a skip: end with one line saying how many were skipped,
    how many of those for a missing system package, and the one command that runs them."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    missing = sum("install" in str(getattr(r, "longrepr", "")).lower() for r in skipped)
    line = f"{len(skipped)} test(s) skipped (reasons above)"
    if missing:
        line += f"; {missing} for a missing system package: run `sudo bash .ci/system-deps --install && make test`"
    terminalreporter.write_line(line + ".", yellow=True, bold=True)
