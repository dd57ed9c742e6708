"""Files a run writes: each one whole or not at all, and the resumable checkpoint.

``atomic_write`` writes to a temporary name in the target's folder (``<stem>.part-<pid><suffix>``),
flushes it to the disk and renames it over the target, so a reader (or a run resumed after
``kill -9``, a full disk or a power cut) sees the old file or the new one, never half of one.
A failed write removes its temporary file and raises ``StorageError`` naming the target.

A checkpoint is ONE safetensors file, replaced in one rename. Its tensors are the network's
weights (``model.*``), the optimizer's per-parameter tensors (``optim.<index>.<name>``: AdamW's
step and moments) and, when the best epoch is not the last one, the best epoch's weights
(``best.*``). Its metadata holds strict JSON: epoch, the optimizer's parameter groups, the
scheduler's and the gradient scaler's state, the best score so far, the history and the RNG
seed of the next epoch. No pickles. Training reseeds every RNG from (seed, epoch, rank) at
the start of each epoch, so a run resumed from the checkpoint of epoch k continues exactly
as the uninterrupted run would, bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path

from sand_gui.errors import StorageError, UsageError, one_line, storage_error

FORMAT = "sand-train checkpoint"
VERSION = 2  # 1: two files, <stem>.safetensors + <stem>.json
TEMP_GLOB = "*.part-*"


def temp_name(path: Path) -> Path:
    """The temporary name ``atomic_write`` uses for ``path`` (same folder, same suffix)."""
    return path.with_name(f"{path.stem}.part-{os.getpid()}{path.suffix}")


def _os_error(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc``: itself, or one a library reported as text ("os error 28")."""
    if isinstance(exc, OSError):
        return exc
    found = re.search(r"os error (\d+)", str(exc))
    return OSError(int(found.group(1)), os.strerror(int(found.group(1)))) if found else None


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: str | Path, write: Callable[[Path], object], *, fsync: bool = True) -> Path:
    """Call ``write(tmp)`` to fill a temporary file, then rename it to ``path``.

    ``fsync`` flushes the file and its folder to the disk (survives a power cut, not only a
    kill); files that can be regenerated may skip it. OS errors (no space, read-only,
    permission, not a folder) become one ``StorageError`` sentence naming ``path``.
    """
    path = Path(path)
    tmp = temp_name(path)
    try:
        write(tmp)
        if fsync:
            _fsync(tmp)
        os.replace(tmp, path)
        if fsync:
            _fsync(path.parent, directory=True)
    except BaseException as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        os_error = _os_error(exc)
        if os_error is not None and not isinstance(exc, StorageError):
            raise storage_error(os_error, path) from None
        raise
    return path


def make_dirs(path: str | Path) -> Path:
    """``mkdir -p`` whose OS errors are one StorageError sentence naming ``path``."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(exc, path) from None
    if not path.is_dir():
        raise StorageError(f"{one_line(path)}: is a file, not a folder.")
    return path


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete what interrupted ``atomic_write`` calls left in ``folder`` (not below it)."""
    removed = []
    for tmp in folder.glob(TEMP_GLOB):
        if tmp.is_file():
            try:
                tmp.unlink()
                removed.append(tmp)
            except OSError:
                pass
    return removed


# --- the checkpoint -----------------------------------------------------------------------


def save(path: Path, *, network, optimizer, scheduler, scaler, state: dict, best_weights: dict | None = None) -> Path:
    """Write the checkpoint file ``path`` (``.safetensors``) in one rename.

    ``best_weights``: the best epoch's network weights when they are not the current ones.
    """
    from safetensors.torch import save_file

    opt = optimizer.state_dict()
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
    if best_weights is not None:
        tensors |= {f"best.{k}": v.detach().cpu().contiguous() for k, v in best_weights.items()}
    scalars: dict[str, dict] = {}
    for index, entries in opt["state"].items():
        for name, value in entries.items():
            if hasattr(value, "detach"):
                tensors[f"optim.{index}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(index), {})[name] = value
    meta = dict(state)
    meta["optimizer"] = {"param_groups": opt["param_groups"], "scalars": scalars}
    meta["scheduler"] = scheduler.state_dict()
    meta["scaler"] = scaler.state_dict() if scaler is not None else None
    meta["best_weights"] = "best" if best_weights is not None else "model"
    header = {"format": FORMAT, "version": str(VERSION), "state": json.dumps(json_safe(meta), allow_nan=False)}
    return atomic_write(path, lambda tmp: save_file(tensors, str(tmp), metadata=header))


def json_safe(value):
    """``value`` with every non-finite float (an undefined score) as None: strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _damaged(path: Path, why: str) -> UsageError:
    return UsageError(
        f"{one_line(path)}: not a usable checkpoint ({why}); start the run again with "
        f"sand-train fit --config FILE --set run_dir=... (the folder is reused)."
    )


def read(path: Path) -> tuple[dict, dict]:
    """(tensors, JSON state) of a checkpoint file; UsageError when it is not a whole checkpoint."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    try:
        with safe_open(str(path), framework="pt") as fh:
            header = fh.metadata() or {}
            if header.get("format") != FORMAT or header.get("version") != str(VERSION):
                raise _damaged(path, "written by another version of sand-train, or not a checkpoint")
            tensors = {k: fh.get_tensor(k) for k in fh.keys()}  # noqa: SIM118 - safe_open is no dict
    except UsageError:
        raise
    except FileNotFoundError:
        raise UsageError(f"{one_line(path)}: checkpoint not found.") from None
    except OSError as exc:
        raise storage_error(exc, path) from None
    except (SafetensorError, ValueError, RuntimeError) as exc:  # a truncated or malformed file
        raise _damaged(path, one_line(str(exc).split(":")[0] or type(exc).__name__, limit=80)) from None

    def refuse(text):
        raise ValueError(f"{text} is not JSON")

    try:
        meta = json.loads(header["state"], parse_constant=refuse)
        if not isinstance(meta, dict) or not isinstance(meta.get("epoch"), int):
            raise ValueError("no epoch")  # noqa: TRY004 - reported as a damaged file below
    except (KeyError, ValueError, RecursionError) as exc:
        raise _damaged(path, f"its state is not valid: {one_line(exc, limit=80)}") from None
    return tensors, meta


def load(path: Path, *, network, optimizer, scheduler, scaler) -> tuple[dict, dict]:
    """Restore the four objects in place; returns (JSON state, best epoch's weights)."""
    tensors, meta = read(path)
    try:
        network.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            if key.startswith("optim."):
                _, index, name = key.split(".", 2)
                state.setdefault(int(index), {})[name] = value
        for index, entries in meta["optimizer"]["scalars"].items():
            state.setdefault(int(index), {}).update(entries)
        optimizer.load_state_dict({"state": state, "param_groups": meta["optimizer"]["param_groups"]})
        scheduler.load_state_dict(meta["scheduler"])
        if scaler is not None and meta.get("scaler"):
            scaler.load_state_dict(meta["scaler"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise UsageError(
            f"{one_line(path)}: the checkpoint does not fit this run's network and optimizer "
            f"({one_line(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, limit=100)})."
        ) from None
    prefix = "best." if meta.get("best_weights") == "best" else "model."
    best = {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
    return meta, best
