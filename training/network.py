"""The network a training run starts from: the core's ``build_network`` with the initial
weights the config names (a local ``.safetensors`` file or timm's weights already in the local
Hugging Face cache; never a download, never a pickle), and a probe that turns features too small
for the architecture into one sentence before training starts.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sand_gui.classes import CLASS_NUMBERS
from sand_gui.errors import UsageError, one_line
from sand_gui.model import build_network

from .config import TrainConfig

CLASSES = list(CLASS_NUMBERS)


def initial_weights_file(cfg: TrainConfig) -> Path | None:
    """The file of the initial weights the config names; never downloads."""
    choice = cfg.init_weights
    if choice in (None, "", "none", "null"):
        return None
    if choice == "imagenet" or choice.startswith("timm:"):
        import timm
        from timm.models import get_pretrained_cfg

        if choice == "imagenet":
            tags = timm.list_pretrained(f"{cfg.architecture}.*")
            in1k = [t for t in tags if t.endswith("in1k") and not any(s in t for s in ("22k", "12k", "clip"))]
            if not in1k:
                raise UsageError(f"init_weights imagenet: timm has no ImageNet-1k weights for {cfg.architecture}.")
            name = f"{cfg.architecture}.fb_in1k" if f"{cfg.architecture}.fb_in1k" in in1k else in1k[0]
        else:
            name = choice.removeprefix("timm:")
        pcfg = get_pretrained_cfg(name)
        if pcfg is None or not pcfg.hf_hub_id:
            raise UsageError(f"init_weights {choice}: timm knows no Hugging Face weights named {name!r}.")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from huggingface_hub import hf_hub_download

        try:
            return Path(
                hf_hub_download(pcfg.hf_hub_id, pcfg.hf_hub_filename or "model.safetensors", local_files_only=True)
            )
        except Exception:
            raise UsageError(
                f"init_weights {choice}: {pcfg.hf_hub_id} is not in the local Hugging Face cache and nothing is "
                f"downloaded; fetch it once where there is internet (timm.create_model('{name}', pretrained=True)), "
                f"or set init_weights to a .safetensors file or null."
            ) from None
    path = Path(choice)
    if not path.is_file():
        raise UsageError(f"init_weights {choice}: file not found.")
    if path.suffix != ".safetensors":
        raise UsageError(f"init_weights {path.name}: only .safetensors files are read (no pickles).")
    return path


def make_network(cfg: TrainConfig):
    """build_network + initial weights (tensors whose shape differs, e.g. the head, are skipped)."""
    net = build_network(
        cfg.architecture, num_classes=len(CLASSES), arch_kwargs=cfg.arch_kwargs, drop_path_rate=cfg.drop_path_rate
    )
    path = initial_weights_file(cfg)
    if path is not None:
        from safetensors.torch import load_file

        own = net.state_dict()
        loaded = {k: v for k, v in load_file(str(path)).items() if k in own and own[k].shape == v.shape}
        if not loaded:
            raise UsageError(f"init_weights {path.name}: no tensor fits {cfg.architecture}.")
        net.load_state_dict(loaded, strict=False)
        print(f"initial weights: {len(loaded)} of {len(own)} tensors from {path.name}", file=sys.stderr, flush=True)
    return net


def probe(network, cfg: TrainConfig) -> None:
    """One forward pass of a zero window, so that features too small for the network (its
    stem and downsampling need at least 32 x 32) are one sentence now, not a traceback later."""
    import torch

    spec = cfg.spec
    network.eval()
    try:
        with torch.no_grad():
            network(torch.zeros(1, 3, spec.n_mels, spec.n_frames))
    except RuntimeError as exc:
        raise UsageError(
            f"{cfg.architecture} cannot take windows of {spec.n_mels} mel bands x {spec.n_frames} frames "
            f"({one_line(str(exc).splitlines()[0], limit=120)}); raise features.n_mels or features.n_frames."
        ) from None
    finally:
        network.train()
