"""Two CPU processes with the gloo backend, launched by torchrun, end with identical weights."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file
from train_helpers import REPO, write_config

WORKER = Path(__file__).with_name("train_dist_worker.py")


@pytest.mark.slow
def test_two_gloo_ranks_end_identical(tmp_path, corpus, cache_dir):
    cfg = write_config(
        tmp_path / "tiny.yaml",
        data=str(corpus),
        cache=str(cache_dir),
        run_dir=str(tmp_path / "run"),
        epochs=2,
        val_sheet=None,
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        str(WORKER),
        str(cfg),
        str(tmp_path),
    ]
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    assert (tmp_path / "run/model.safetensors").is_file() and "112 per epoch" in done.stderr
    assert "x 2 ranks" in done.stderr
