"""A training run's folder: which one a new ``fit`` takes (new, empty, a killed start, or an
unfinished run of the same config to continue; never a finished run), getting it ready, and the
per-epoch logs rewritten from the whole history. Every write is one rename (``checkpoint``).
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import json
from pathlib import Path

from sand_gui.errors import UsageError, one_line

from . import checkpoint
from .config import TrainConfig, load_config, save_config

CHECKPOINT = Path("checkpoints") / "last.safetensors"
BUNDLE = "model.safetensors"
SUMMARY = "summary.json"


def _same_config(run: Path, cfg: TrainConfig) -> bool:
    try:
        return load_config(run / "config.yaml").to_dict() == cfg.to_dict()
    except UsageError:
        return False


def _holds_nothing(run: Path) -> bool:
    """True when ``run`` holds only what a run killed in its first write leaves: temporaries
    (``*.part-*``) and an empty ``checkpoints/`` folder."""
    for entry in run.iterdir():
        if fnmatch.fnmatch(entry.name, checkpoint.TEMP_GLOB):
            continue
        if entry.is_dir() and entry.name == CHECKPOINT.parent.name:
            if all(fnmatch.fnmatch(e.name, checkpoint.TEMP_GLOB) for e in entry.iterdir()):
                continue
        return False
    return True


def choose_run_dir(cfg: TrainConfig) -> tuple[Path, bool]:
    """(run folder, whether to continue its checkpoint) for a new ``fit``.

    A folder is taken when it is new or empty, holds a run that never wrote a usable
    checkpoint (a failed or killed start), or holds an unfinished run of the same config
    (which is then continued); a finished run is never overwritten.
    """
    if not cfg.run_dir:
        return Path(cfg.out) / f"{cfg.name}-{dt.datetime.now(dt.timezone.utc):%Y%m%d-%H%M%S}", False
    run = Path(cfg.run_dir)
    name = one_line(run)
    if run.exists() and not run.is_dir():
        raise UsageError(f"{name}: run_dir is a file, not a folder.")
    if not run.is_dir() or _holds_nothing(run):
        return run, False
    if not (run / "config.yaml").is_file():
        raise UsageError(
            f"{name}: run_dir is a folder that holds other files and no run; choose an empty or new folder."
        )
    if (run / BUNDLE).is_file() and (run / SUMMARY).is_file():  # the summary is the last file a run writes
        raise UsageError(f"{name}: already holds a finished run (model.safetensors); choose another run_dir.")
    if (run / CHECKPOINT).is_file():
        try:
            checkpoint.read(run / CHECKPOINT)
        except UsageError:
            return run, False  # a damaged checkpoint: nothing to continue, the folder is reused
        if _same_config(run, cfg):
            return run, True
        raise UsageError(
            f"{name}: already holds an unfinished run with another config; resume it with "
            f"--resume {name} or choose another run_dir."
        )
    return run, False


def prepare_run_dir(run: Path, cfg: TrainConfig, *, fresh: bool) -> None:
    """Create the folders, drop what interrupted writes left, write the resolved config."""
    checkpoint.make_dirs(run / CHECKPOINT.parent)
    for folder in (run, run / CHECKPOINT.parent):
        checkpoint.remove_temporaries(folder)
    if fresh:
        for name in ("log.jsonl", "log.csv", "skipped.txt", SUMMARY, "confusion.png", BUNDLE):
            (run / name).unlink(missing_ok=True)
    save_config(cfg, run / "config.yaml")


def write_logs(run: Path, history: list[dict]) -> None:
    """``log.jsonl`` and ``log.csv`` rewritten from the whole history (each one rename)."""
    history = checkpoint.json_safe(history)
    lines = "".join(json.dumps(row, allow_nan=False) + "\n" for row in history)
    checkpoint.atomic_write(run / "log.jsonl", lambda tmp: tmp.write_text(lines, encoding="utf-8"), fsync=False)
    flat_rows = []
    for row in history:
        flat = {k: v for k, v in row.items() if not isinstance(v, dict)}
        for level in ("recording", "patient"):
            for c, f1 in (row.get(f"{level}_f1_per_class") or {}).items():
                flat[f"{level}_f1_class{c}"] = f1
        flat_rows.append(flat)
    fields = list(dict.fromkeys(k for flat in flat_rows for k in flat))

    def write_csv(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(flat_rows)

    checkpoint.atomic_write(run / "log.csv", write_csv, fsync=False)
