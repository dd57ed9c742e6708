"""Resumable checkpoints without pickles: ``<stem>.safetensors`` + ``<stem>.json``.

The safetensors file holds the network's weights (``model.*``) and the optimizer's
per-parameter tensors (``optim.<index>.<name>``: AdamW's step and moments). The JSON file
holds everything else: epoch, the optimizer's parameter groups, the scheduler's and the
gradient scaler's state, the best score so far and the RNG seed of the next epoch.
Training reseeds every RNG from (seed, epoch, rank) at the start of each epoch, so a run
resumed from the checkpoint of epoch k continues exactly as the uninterrupted run would.
"""

from __future__ import annotations

import json
from pathlib import Path

from sand_gui.errors import UsageError


def save(stem: Path, *, network, optimizer, scheduler, scaler, state: dict) -> None:
    from safetensors.torch import save_file

    opt = optimizer.state_dict()
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in network.state_dict().items()}
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
    stem.parent.mkdir(parents=True, exist_ok=True)
    for suffix, write in ((".safetensors", lambda p: save_file(tensors, str(p))),
                          (".json", lambda p: p.write_text(json.dumps(meta, indent=1), encoding="utf-8"))):
        tmp = stem.with_suffix(suffix + ".part")
        write(tmp)
        tmp.replace(stem.with_suffix(suffix))


def load(stem: Path, *, network, optimizer, scheduler, scaler) -> dict:
    """Restore all four objects in place and return the JSON state."""
    from safetensors.torch import load_file

    weights, meta_file = stem.with_suffix(".safetensors"), stem.with_suffix(".json")
    if not weights.is_file() or not meta_file.is_file():
        raise UsageError(f"{stem.parent}: no checkpoint {stem.name} to resume from.")
    tensors = load_file(str(weights))
    meta = json.loads(meta_file.read_text(encoding="utf-8"))
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
    return meta
