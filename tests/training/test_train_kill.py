"""kill -9 loses nothing: ``sand-train fit`` killed at 20 random moments, then resumed, ends
with the very bytes of the uninterrupted run.

The reference run is a real ``python -m training fit`` process. The 20 killed runs and their
resumes are ``training.cli.main(["fit", ...])`` in children forked from a harness process
that has already imported torch and timm (and never ran a torch operation before forking),
so each costs the training, not the 10 s of imports. Each child is killed with SIGKILL at a
moment drawn at random over the length of a whole run, one in each twentieth of it (two
trials run side by side). After each kill every file left in the run folder must read back
whole (config, checkpoint, log, bundle), and once the run is recovered no temporary file may
stay. Half of the recoveries use ``--resume RUN_DIR`` and half run the same ``fit --config``
command again (a folder is reused or continued, never a dead end).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KILLS = 20
LANES = 2  # trials killed side by side (one torch thread each)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # same arithmetic in every process, no oversubscription
# the smallest run that still has a validation split, a best epoch and several checkpoints
KILL_TRAIN = {f"ID{i:03d}": c for i, c in zip(range(1, 6), [1, 2, 3, 4, 5])}
KILL_VAL = {f"ID{i:03d}": c for i, c in zip(range(6, 11), [1, 2, 3, 4, 5])}


def _weights(bundle: Path) -> dict[str, bytes]:
    from safetensors.torch import load_file

    return {k: v.numpy().tobytes() for k, v in load_file(str(bundle)).items()}


def _checkpoint_model(run: Path) -> dict[str, bytes]:
    from training.checkpoint import read

    tensors, _ = read(run / "checkpoints" / "last.safetensors")
    return {k: v.numpy().tobytes() for k, v in tensors.items() if k.startswith("model.")}


def _check_whole(run: Path) -> list[str]:
    """Every file a killed run left must read back whole; returns the names found."""
    from sand_gui.bundle import load_bundle
    from training.checkpoint import read
    from training.config import load_config

    found = sorted(p.relative_to(run).as_posix() for p in run.rglob("*") if p.is_file())
    if (run / "config.yaml").exists():
        load_config(run / "config.yaml")
    if (run / "checkpoints/last.safetensors").exists():
        read(run / "checkpoints/last.safetensors")
    for name in ("log.jsonl",):
        if (run / name).exists():
            [json.loads(line) for line in (run / name).read_text().splitlines()]
    if (run / "summary.json").exists():
        json.loads((run / "summary.json").read_text())
    if (run / "model.safetensors").exists():
        load_bundle(run / "model.safetensors")
    return found


def _fork_main(args: list[str]) -> int:
    """``training.cli.main(args)`` in a forked child; returns its pid."""
    pid = os.fork()
    if pid == 0:  # the child: run sand-train, leave without running the parent's cleanup
        code = 1
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            from training.cli import main

            code = main(args)
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _kill_at(pids: dict[int, int], moments: dict[int, float]) -> dict[int, float | None]:
    """SIGKILL each child at its moment after now; returns, for each, None when it was killed,
    else the seconds it took to end by itself first."""
    started = time.perf_counter()
    ended: dict[int, float | None] = {}
    while len(ended) < len(pids):
        now = time.perf_counter() - started
        for i, pid in pids.items():
            if i in ended:
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                ended[i] = now if os.waitstatus_to_exitcode(status) != -9 else None
            elif now >= moments[i]:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                ended[i] = None
        time.sleep(0.01)
    return ended


def _trial_runs(work: Path, config: Path, trials: list[int], rng) -> list[dict]:
    """Kill runs ``trials`` (started together, killed each at its own moment), then recover them.
    A run that ended before its moment (the machine was faster than when timed) is run again
    and killed at a moment drawn over its own length."""
    from training.checkpoint import TEMP_GLOB

    runs = {i: work / f"trial{i:02d}" for i in trials}
    fit_args = {i: ["fit", "--config", str(config), "--set", f"run_dir={runs[i]}", "--quiet"] for i in trials}
    moments = {i: STRATA[i] for i in trials}
    ended = _kill_at({i: _fork_main(fit_args[i]) for i in trials}, moments)
    for i in trials:
        for _ in range(3):
            if ended[i] is None:
                break
            shutil.rmtree(runs[i], ignore_errors=True)
            moments[i] = rng.uniform(0.0, ended[i])
            ended[i] = _kill_at({i: _fork_main(fit_args[i])}, {i: moments[i]})[i]
    out = []
    recover = {}
    for i in trials:
        left = _check_whole(runs[i]) if runs[i].exists() else []
        # a run killed after its summary (the last file) is finished: a new fit refuses it, --resume takes it
        use_resume = (i % 2 == 0 and (runs[i] / "config.yaml").is_file()) or "summary.json" in left
        recover[i] = (
            left,
            use_resume,
            _fork_main(["fit", "--resume", str(runs[i]), "--quiet"] if use_resume else fit_args[i]),
        )
    for i in trials:
        left, use_resume, pid = recover[i]
        code = _wait(pid)
        run = runs[i]
        same = (
            code == 0
            and _weights(run / "model.safetensors") == REFERENCE["bundle"]
            and _checkpoint_model(run) == REFERENCE["checkpoint"]
        )
        same_log = code == 0 and _losses(run) == REFERENCE["losses"]
        out.append(
            {
                "trial": i,
                "at": round(moments[i], 3),
                "killed": ended[i] is None,
                "left": left,
                "resume": use_resume,
                "code": code,
                "same_weights": same,
                "same_log": same_log,
                "temporaries": [p.name for p in run.rglob(TEMP_GLOB)],
            }
        )
        shutil.rmtree(run, ignore_errors=True)
    return out


FULL_RUN: list[float] = []
STRATA: list[float] = []
REFERENCE: dict = {}


def _losses(run: Path) -> list[float]:
    return [json.loads(x)["train_loss"] for x in (run / "log.jsonl").read_text().splitlines()]


def harness(work: Path, seed: int) -> None:
    """The kill trials (run in a process of its own, see the module note); prints one JSON line
    per trial as it ends, so that a slow machine still shows how far it got."""
    import random

    # imported once here and inherited by every forked child (no torch operation runs before a fork)
    import matplotlib.backends.backend_agg
    import matplotlib.figure  # noqa: F401
    import openpyxl  # noqa: F401
    import timm  # noqa: F401
    import torch  # noqa: F401

    import training.loop  # noqa: F401

    rng = random.Random(seed)
    config = work / "kill.yaml"
    REFERENCE.update(
        bundle=_weights(work / "reference" / "model.safetensors"),
        checkpoint=_checkpoint_model(work / "reference"),
        losses=_losses(work / "reference"),
    )
    # two runs at once, as the trials run: the time of a whole run under that load
    t0 = time.perf_counter()
    pids = [
        _fork_main(["fit", "--config", str(config), "--set", f"run_dir={work / f'timing{k}'}", "--quiet"])
        for k in (0, 1)
    ]
    assert [_wait(pid) for pid in pids] == [0, 0]
    FULL_RUN.append(time.perf_counter() - t0)
    for k in (0, 1):
        assert _weights(work / f"timing{k}" / "model.safetensors") == REFERENCE["bundle"], "a forked run differs"
    print(json.dumps({"full_run_s": FULL_RUN[0]}), flush=True)
    # one moment drawn uniformly in each twentieth of the run, in random order: random, and spread
    width = FULL_RUN[0] / KILLS
    moments = [rng.uniform(k * width, (k + 1) * width) for k in range(KILLS)]
    rng.shuffle(moments)
    STRATA.extend(moments)
    for first in range(0, KILLS, LANES):
        for trial in _trial_runs(work, config, list(range(first, min(first + LANES, KILLS))), rng):
            print(json.dumps(trial), flush=True)


@pytest.mark.slow
def test_kill_9_at_20_random_moments_resumes_bit_identical(tmp_path):
    from train_helpers import TINY_FEATURES, make_corpus, run_cli, write_config

    t0 = time.perf_counter()
    corpus = make_corpus(tmp_path / "sand", train=KILL_TRAIN, val=KILL_VAL, test=[])
    config = write_config(
        tmp_path / "kill.yaml",
        data=str(corpus),
        cache=str(tmp_path / "cache"),
        features=TINY_FEATURES,
        oversample={},
        epochs=3,
        batch_size=16,
        run_dir=str(tmp_path / "reference"),
    )
    ref = run_cli("fit", "--config", str(config), "--quiet", extra_env=ONE_THREAD)
    assert ref.returncode == 0, ref.stderr
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(HERE)]), **ONE_THREAD)
    out = subprocess.run(
        [sys.executable, __file__, str(tmp_path), "20261127"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    lines = [json.loads(x) for x in out.stdout.splitlines() if x.startswith("{")]
    assert out.returncode == 0 and lines, (out.stdout[-3000:], out.stderr[-3000:])
    full, trials = lines[0]["full_run_s"], lines[1:]
    seconds = time.perf_counter() - t0
    states = {"nothing written": 0, "config only": 0, "a checkpoint": 0, "a bundle, no summary": 0, "finished": 0}
    for t in trials:
        left = set(t["left"])
        key = (
            "finished"
            if "summary.json" in left
            else "a bundle, no summary"
            if "model.safetensors" in left
            else "a checkpoint"
            if "checkpoints/last.safetensors" in left
            else "config only"
            if "config.yaml" in left
            else "nothing written"
        )
        states[key] += 1
    print(
        f"kill test: {len(trials)} kills ({sum(t['resume'] for t in trials)} recovered with --resume), "
        f"a whole run {full:.1f} s (two side by side), the test {seconds:.0f} s; killed with {states}"
    )
    assert len(trials) == KILLS
    bad = [t for t in trials if not (t["code"] == 0 and t["same_weights"] and t["same_log"] and not t["temporaries"])]
    assert not bad, json.dumps(bad)
    assert all(t["killed"] for t in trials), trials
    # the moments spread over the run: some before the first checkpoint, some after it
    assert any("checkpoints/last.safetensors" not in t["left"] for t in trials), trials
    assert any("checkpoints/last.safetensors" in t["left"] for t in trials), trials


if __name__ == "__main__":
    harness(Path(sys.argv[1]), int(sys.argv[2]))
