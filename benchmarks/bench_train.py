"""Training throughput: the ``fit`` loop against a bare timm loop, in one process.

The fit loop is ``training.loop.train_one_epoch`` fed exactly as ``fit`` feeds it
(oversampled sampler, random window crops from variable-length features, augmentation,
focal loss with class weights, AdamW). The bare loop is forward + cross-entropy + backward
+ AdamW step on random tensors of the same shape that already sit on the device: an
upper bound. The ratio says what the data path costs (goal >= 0.9).

    python benchmarks/bench_train.py                                   # bundled config, CPU
    python benchmarks/bench_train.py --device cuda --amp --steps 200   # on a GPU
    python benchmarks/bench_train.py --config training/configs/convnext_base.yaml --device cuda --amp
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bare_loop(cfg, *, device: str, amp_dtype, steps: int, warmup: int) -> float:
    """Samples/s of forward + backward + AdamW on fixed random tensors."""
    import torch
    import torch.nn.functional as F

    from training.network import make_network

    net = make_network(cfg).to(device).train()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    spec = cfg.spec
    x = torch.randn(cfg.batch_size, 3, spec.n_mels, spec.n_frames, device=device)
    y = torch.randint(0, 5, (cfg.batch_size,), device=device)
    for i in range(warmup + steps):
        if i == warmup:
            _sync(device)
            t0 = time.perf_counter()
        with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=amp_dtype is not None):
            loss = F.cross_entropy(net(x).float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    _sync(device)
    return steps * cfg.batch_size / (time.perf_counter() - t0)


def fit_loop(cfg, *, device: str, amp_dtype, steps: int, warmup: int) -> float:
    """Samples/s of ``train_one_epoch`` on random variable-length features, fed as ``fit`` does."""
    import torch

    from training.data import Item, OversampledSampler, RecordingRef, class_counts
    from training.loop import CLASSES, Step, epoch_batches, make_network, train_one_epoch
    from training.losses import class_weights, make_loss

    spec = cfg.spec
    g = torch.Generator().manual_seed(0)
    n_items = (warmup + steps) * cfg.batch_size
    labels = torch.randint(1, 6, (n_items,), generator=g).tolist()
    items = [
        Item(
            RecordingRef(f"ID{i:03d}", "phonationA", Path("-"), y),
            torch.randn(3, spec.n_mels, int(torch.randint(spec.n_frames, 3 * spec.n_frames, (1,), generator=g))),
        )
        for i, y in enumerate(labels)
    ]
    sampler = OversampledSampler(labels, {}, seed=0)
    net = make_network(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    weight = class_weights(
        cfg, raw_counts=class_counts(labels), sampled_counts=class_counts(labels), class_numbers=CLASSES
    )
    step = Step(net, opt, make_loss(cfg, weight), device, amp_dtype)

    order = list(sampler)
    train_one_epoch(step, epoch_batches(items, order[: warmup * cfg.batch_size], cfg, generator=g), total=warmup)
    _sync(device)
    t0 = time.perf_counter()
    _, seen = train_one_epoch(
        step, epoch_batches(items, order[warmup * cfg.batch_size :], cfg, generator=g), total=steps
    )
    _sync(device)
    return seen / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(Path(__file__).resolve().parents[1] / "training/configs/bundled.yaml"))
    p.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE")
    p.add_argument("--device", default="cpu", choices=("auto", "cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="mixed precision (CUDA only)")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=2, help="alternate the two loops this many times; best of each")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)

    import torch

    from sand_gui.model import resolve_device
    from training.config import load_config

    cfg = load_config(a.config, a.overrides + ["init_weights=null"])
    choice = resolve_device(a.device)
    device = choice.device
    amp_dtype = getattr(torch, cfg.amp_dtype) if a.amp and device == "cuda" else None
    if device == "cuda":
        torch.backends.cudnn.benchmark = True
    bare, fit = [], []
    for _ in range(a.repeats):
        bare.append(bare_loop(cfg, device=device, amp_dtype=amp_dtype, steps=a.steps, warmup=a.warmup))
        fit.append(fit_loop(cfg, device=device, amp_dtype=amp_dtype, steps=a.steps, warmup=a.warmup))
    res = {
        "device": choice.name,
        "architecture": cfg.architecture,
        "batch": cfg.batch_size,
        "input": [3, cfg.spec.n_mels, cfg.spec.n_frames],
        "amp": amp_dtype is not None,
        "steps": a.steps,
        "torch_threads": torch.get_num_threads(),
        "bare_samples_per_s": max(bare),
        "fit_samples_per_s": max(fit),
        "ratio": max(fit) / max(bare),
    }
    if a.json:
        print(json.dumps(res, indent=1))
    else:
        print(
            f"{res['architecture']} batch {res['batch']} input {res['input']} on {res['device']}"
            f"{' (amp ' + cfg.amp_dtype + ')' if res['amp'] else ''}, {a.steps} steps, best of {a.repeats}:"
        )
        print(f"  bare timm loop   {res['bare_samples_per_s']:9.1f} samples/s")
        print(f"  fit loop         {res['fit_samples_per_s']:9.1f} samples/s")
        print(f"  ratio            {res['ratio']:9.3f}  (goal >= 0.9)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
