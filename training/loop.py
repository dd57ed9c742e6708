"""The training run: ``fit`` = config -> network -> data -> epochs of ``train_one_epoch``
and ``validate`` -> checkpoint, log, model bundle.

The run folder holds ``config.yaml`` (resolved), ``log.jsonl`` and ``log.csv`` (one line
per epoch), ``checkpoints/last.safetensors`` (ONE file: weights, optimizer, scheduler, best
epoch's weights, history; see ``checkpoint``), ``model.safetensors`` (the core's bundle,
from the best epoch), ``confusion.png``, ``summary.json`` and, when recordings had to be
skipped, ``skipped.txt``. Every file is written to a temporary name and renamed; the
checkpoint is the commit point of an epoch and the logs are rewritten from its history, so
a run killed at any moment (``kill -9``, a full disk) resumes to the very same weights.

A run folder left by a failed or killed run is never a dead end: ``--resume RUN_DIR``
continues it (from the first epoch when no checkpoint was written yet), and a new ``fit``
with the same ``run_dir`` reuses a folder holding no checkpoint, or continues one whose
config is the same.
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sand_gui.bundle import ModelCard, save_bundle
from sand_gui.classes import CLASS_NUMBERS, DEFAULT_LABELS
from sand_gui.dataset import SandLayout
from sand_gui.errors import DatasetError, UsageError, one_line
from sand_gui.model import class_probabilities, recording_probabilities, resolve_device

from . import checkpoint, distributed
from .augment import augment
from .config import TrainConfig, load_config
from .config import validate as validate_config
from .data import (
    OversampledSampler,
    batches,
    check_disjoint,
    class_counts,
    eval_windows,
    list_recordings,
    load_items,
    load_variants,
    select_patients,
)
from .losses import class_weights, make_loss
from .metrics import evaluate_records, save_confusion_png
from .network import make_network, probe
from .run_dir import BUNDLE, CHECKPOINT, SUMMARY, choose_run_dir, prepare_run_dir, write_logs
from .wave_augment import WaveAugment, check_available

CLASSES = list(CLASS_NUMBERS)
AUG_KEYS = (
    "aug_variants",
    "aug_codec_p",
    "aug_reverb_p",
    "aug_noise_p",
    "aug_snr_db",
    "aug_gain_db",
    "aug_speed",
    "aug_pitch_semitones",
    "aug_eq_db",
    "aug_channels",
)


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def seed_all(seed: int) -> None:
    import random

    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def epoch_seed(cfg: TrainConfig, epoch: int, rank: int) -> int:
    return cfg.seed * 1_000_003 + epoch * 1009 + rank


# --- one epoch, validation ---------------------------------------------------------------


@dataclass
class Step:
    """What ``train_one_epoch`` needs besides the data."""

    network: object
    optimizer: object
    loss_fn: object
    device: str
    amp_dtype: object = None  # torch dtype under autocast, None for full precision
    scaler: object = None


def train_one_epoch(
    step: Step, batch_iter, *, total: int, progress: bool = False, desc: str = "train"
) -> tuple[float, int]:
    """One pass over ``batch_iter`` of (x, y); returns (mean loss, samples seen).

    On CUDA a batch is copied from pinned memory without waiting, and the loss is read
    back only every few steps, so the CPU prepares the next batch while the GPU works.
    """
    import torch
    from tqdm import tqdm

    step.network.train()
    cuda = step.device.startswith("cuda")
    loss_sum, seen = torch.zeros((), device=step.device), 0
    bar = tqdm(batch_iter, total=total, desc=desc, unit="batch", disable=not progress, leave=False)
    for i, (x, y) in enumerate(bar):
        if cuda:
            x, y = x.pin_memory(), y.pin_memory()
        x, y = x.to(step.device, non_blocking=True), y.to(step.device, non_blocking=True)
        with torch.autocast(device_type="cuda", dtype=step.amp_dtype, enabled=step.amp_dtype is not None):
            logits = step.network(x)
        loss = step.loss_fn(logits, y)
        step.optimizer.zero_grad(set_to_none=True)
        if step.scaler is not None:
            step.scaler.scale(loss).backward()
            step.scaler.step(step.optimizer)
            step.scaler.update()
        else:
            loss.backward()
            step.optimizer.step()
        loss_sum += loss.detach() * len(y)
        seen += len(y)
        if progress and i % 10 == 9:
            bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}")
    return float(loss_sum) / max(seen, 1), seen


def epoch_batches(items, sampler, cfg: TrainConfig, *, generator):
    """One epoch of augmented training batches (x, y) in sampler order."""
    return (
        (augment(x, cfg=cfg, generator=generator), y)
        for x, y in batches(
            items,
            sampler,
            batch_size=cfg.batch_size,
            n_frames=cfg.spec.n_frames,
            class_numbers=CLASSES,
            generator=generator,
        )
    )


def objective(cfg: TrainConfig) -> str:
    """The card's ``objective`` for the config's loss: how outputs become probabilities."""
    return "corn" if cfg.loss == "corn" else "softmax"


def predict_items(
    network, items, *, n_frames: int, device: str, batch_size: int = 64, objective: str = "softmax"
) -> list[np.ndarray]:
    """Each item's class probabilities [shape=(c,)]: the core's ``class_probabilities`` per
    window, then its ``recording_probabilities`` (the mean), as ``sand_gui.model.Classifier`` does."""
    import torch

    windows, slices = eval_windows(items, n_frames=n_frames)
    if windows is None:
        return []
    network.eval()
    out = []
    with torch.inference_mode():
        for s in range(0, len(windows), batch_size):
            logits = network(windows[s : s + batch_size].to(device))
            out.append(class_probabilities(logits, objective=objective).cpu().numpy())
    probs = np.concatenate(out)
    return [recording_probabilities(probs[sl]) for sl in slices]


def validate(
    network, items, *, n_frames: int, device: str, batch_size: int, objective: str = "softmax", vote: str = "majority"
) -> dict:
    """Recording- and patient-level reports of ``items`` (see ``metrics.evaluate_records``)."""
    probs = predict_items(network, items, n_frames=n_frames, device=device, batch_size=batch_size, objective=objective)
    records = [(it.ref.patient, it.ref.task, p) for it, p in zip(items, probs)]
    labels = {it.ref.patient: it.ref.label for it in items}
    return evaluate_records(records, labels, CLASSES, rule=vote)


# --- the run ---------------------------------------------------------------------------


@dataclass
class FitResult:
    run_dir: Path | None
    network: object
    history: list[dict] = field(default_factory=list)
    bundle: Path | None = None


def _load_split(cfg: TrainConfig, root: str, sheet: str, *, progress: bool, desc: str, cache: str | None):
    layout = SandLayout(root)
    patients = select_patients(layout, sheet)
    refs, missing = list_recordings(layout, patients)
    items, skipped = load_items(
        refs, spec=cfg.spec, cache=cache, progress=progress, desc=desc, workers=cfg.data_workers
    )
    return patients, items, missing + skipped


def load_data(cfg: TrainConfig, *, progress: bool, rank0_first=lambda f: f()):
    """(train items, validation items or [], lines about skipped recordings, patients by split)."""

    def work():
        train_p, train, skipped = _load_split(
            cfg, cfg.data, cfg.train_sheet, progress=progress, desc="train features", cache=cfg.cache
        )
        val_p, val = [], []
        if cfg.val_sheet:
            val_p, val, more = _load_split(
                cfg,
                cfg.val_data or cfg.data,
                cfg.val_sheet,
                progress=progress,
                desc="validation features",
                cache=cfg.cache,
            )
            skipped += more
            if not cfg.val_data or Path(cfg.val_data).resolve() == Path(cfg.data).resolve():
                check_disjoint({cfg.train_sheet: train_p, cfg.val_sheet: val_p})
        return train, val, skipped, {"train": train_p, "validation": val_p}

    train, val, skipped, patients = rank0_first(work)
    if not train:
        raise DatasetError(f"{cfg.data}: no usable training recording in {cfg.train_sheet!r}.")
    return train, val, skipped, patients


def _card(cfg: TrainConfig, patients: dict, n_train: int, n_val: int, metrics: dict) -> ModelCard:
    return ModelCard(
        name=cfg.name,
        architecture=cfg.architecture,
        spec=cfg.spec,
        arch_kwargs=dict(cfg.arch_kwargs),
        class_numbers=CLASSES,
        class_labels=[DEFAULT_LABELS[c] for c in CLASSES],
        training_data={
            "description": cfg.data_description,
            "synthetic": bool(cfg.synthetic),
            "dataset": Path(cfg.data).name,
            "train_sheet": cfg.train_sheet,
            "validation_sheet": cfg.val_sheet,
            "validation_dataset": Path(cfg.val_data).name if cfg.val_data else Path(cfg.data).name,
            "train_patients": len(patients["train"]),
            "validation_patients": len(patients["validation"]),
            "train_recordings": n_train,
            "validation_recordings": n_val,
            "recipe": {
                k: getattr(cfg, k)
                for k in (
                    "epochs",
                    "batch_size",
                    "lr",
                    "weight_decay",
                    "scheduler",
                    "loss",
                    "vote",
                    "focal_gamma",
                    "class_weights",
                    "specaugment_p",
                    "drop_path_rate",
                    "init_weights",
                    "seed",
                )
            }
            | ({k: getattr(cfg, k) for k in AUG_KEYS} if cfg.aug_variants else {})
            | {"oversample": {str(k): v for k, v in cfg.oversample.items()}},
        },
        metrics=metrics,
        notes=cfg.notes,
        objective=objective(cfg),
        vote=cfg.vote,
    )


def _score(value) -> float:
    """A macro-F1 as a comparable number (an undefined one ranks below every defined one)."""
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else -1.0


def fit(
    cfg: TrainConfig,
    *,
    resume: str | Path | None = None,
    dry_run: bool = False,
    progress: bool = False,
    stop_after: int | None = None,
) -> FitResult:
    """Train as ``cfg`` says. ``resume``: a run folder to continue from its last checkpoint.
    ``stop_after``: leave after that many epochs of this call, as if interrupted (tests).

    Order: the config is checked, the network built and the run folder prepared before any
    data is loaded, so a bad setting or an unwritable folder is reported in seconds.
    """
    validate_config(cfg)  # first: a bad setting costs no import and no data
    import torch

    distributed.select_local_gpu()
    choice = resolve_device(cfg.device)
    if choice.note:
        say(choice.note)
    dist = distributed.init(choice.device)
    device = f"cuda:{dist.local_rank}" if choice.device == "cuda" else "cpu"
    if choice.device == "cuda":
        torch.backends.cudnn.benchmark = True
    seed_all(cfg.seed)
    show = progress and dist.main
    network = make_network(cfg)  # a bad architecture or initial-weights file is reported now
    probe(network, cfg)
    wave_aug = WaveAugment.from_config(cfg)
    if cfg.aug_variants:
        check_available(wave_aug)  # codecs or rooms asked for where none exist: now, not after loading

    def rank0_first(work):
        if not dist.main:
            distributed.barrier(dist)
        out = work()
        if dist.main:
            distributed.barrier(dist)
        return out

    run, cont = (Path(resume), True) if resume else choose_run_dir(cfg)
    if cont and not (run / CHECKPOINT).is_file():
        cont = False
        if dist.main:
            say(f"{one_line(run)}: no checkpoint yet; starting from the first epoch")
    if dist.main and not dry_run:
        prepare_run_dir(run, cfg, fresh=not cont)
    train, val, skipped, patients = load_data(
        cfg, progress=show, rank0_first=rank0_first if cfg.cache else lambda f: f()
    )
    if cfg.aug_variants and wave_aug.active and not dry_run:  # copies of an inactive setting = the clean ones

        def copies():
            return load_variants(
                train,
                spec=cfg.spec,
                aug=wave_aug,
                seed=cfg.seed,
                count=cfg.aug_variants,
                cache=cfg.cache,
                progress=show,
                workers=cfg.data_workers,
            )

        skipped += rank0_first(copies) if cfg.cache else copies()
    for line in skipped:
        say(f"skipped: {line}")
    labels = [it.label for it in train]
    sampler = OversampledSampler(labels, cfg.oversample, seed=cfg.seed, rank=dist.rank, world=dist.world)
    raw, sampled = class_counts(labels), class_counts(labels, cfg.oversample)
    steps = math.ceil(len(sampler) / cfg.batch_size)
    plan = (
        f"{cfg.name}: {len(patients['train'])} train patients ({len(train)} recordings, {len(sampler.indices)} per epoch "
        f"after oversampling, {steps} steps of {cfg.batch_size}{f' x {dist.world} ranks' if dist.enabled else ''}), "
        f"{len(patients['validation'])} validation patients ({len(val)} recordings); class counts {raw} -> {sampled}; "
        f"{cfg.architecture} on {choice.name}, {cfg.epochs} epochs"
    )
    if dist.main:
        say(plan)
    if dry_run:
        return FitResult(None, None)

    network = network.to(device)
    model = distributed.wrap(network, dist, choice.device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.scheduler == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    else:
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1.0)
    amp = cfg.amp and choice.device == "cuda"
    amp_dtype = getattr(torch, cfg.amp_dtype) if amp else None
    scaler = torch.amp.GradScaler("cuda") if amp and cfg.amp_dtype == "float16" else None
    weight = class_weights(cfg, raw_counts=raw, sampled_counts=sampled, class_numbers=CLASSES)
    step = Step(model, optimizer, make_loss(cfg, weight), device, amp_dtype, scaler)

    start, best, history, best_weights = 0, None, [], None
    if cont:
        meta, best_weights = checkpoint.load(
            run / CHECKPOINT, network=network, optimizer=optimizer, scheduler=scheduler, scaler=scaler
        )
        start, best, history = meta["epoch"], meta.get("best"), meta.get("history", [])
        if dist.main:
            say(f"resuming {one_line(run)} after epoch {start}")
            write_logs(run, history)  # the logs may lag the checkpoint by one epoch after a kill
    if dist.main and skipped:
        checkpoint.atomic_write(
            run / "skipped.txt", lambda tmp: tmp.write_text("\n".join(skipped) + "\n", encoding="utf-8"), fsync=False
        )

    n_frames = cfg.spec.n_frames
    for epoch in range(start, cfg.epochs):
        if stop_after is not None and epoch - start >= stop_after:
            break
        seed_all(epoch_seed(cfg, epoch, dist.rank))
        gen = torch.Generator().manual_seed(epoch_seed(cfg, epoch, dist.rank))
        sampler.set_epoch(epoch)
        lr = optimizer.param_groups[0]["lr"]
        batch_iter = epoch_batches(train, sampler, cfg, generator=gen)
        t0 = time.perf_counter()
        loss, seen = train_one_epoch(
            step, batch_iter, total=steps, progress=show, desc=f"epoch {epoch + 1}/{cfg.epochs}"
        )
        seconds = time.perf_counter() - t0
        scheduler.step()
        loss = distributed.all_mean(loss, dist, device)
        if not math.isfinite(loss):
            raise UsageError(
                f"epoch {epoch + 1}: the training loss is {loss}, the run diverged; resume "
                f"{one_line(run)} with --resume and a lower lr (--set lr=...), now {cfg.lr:g}."
            )
        if not dist.main:
            continue
        row = {"epoch": epoch + 1, "lr": lr, "train_loss": loss, "samples_per_s": seen / seconds, "seconds": seconds}
        if val:
            res = validate(
                network,
                val,
                n_frames=n_frames,
                device=device,
                batch_size=cfg.eval_batch_size,
                objective=objective(cfg),
                vote=cfg.vote,
            )
            rec, pat = res["recording_level"], res["patient_level"]
            row |= {
                "recording_macro_f1": rec["macro_f1"],
                "patient_macro_f1": pat["macro_f1"],
                "recording_f1_per_class": {c: s["f1"] for c, s in rec["per_class"].items()},
                "patient_f1_per_class": {c: s["f1"] for c, s in pat["per_class"].items()},
            }
            score = [_score(pat["macro_f1"]), _score(rec["macro_f1"])]
        else:
            res, score = None, [float(epoch)]
        history.append(row)
        say(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {loss:.4f}"
            + (
                f", validation macro-F1 recording {row['recording_macro_f1']:.3f} patient {row['patient_macro_f1']:.3f}"
                if val
                else ""
            )
            + f" ({seen / seconds:.0f} samples/s)"
        )
        improved = best is None or score > best["score"]
        if improved:
            best = {"epoch": epoch + 1, "score": score, "validation": res}
            best_weights = {k: v.detach().cpu().clone() for k, v in network.state_dict().items()}
        state = {"epoch": epoch + 1, "best": best, "history": history, "next_seed": epoch_seed(cfg, epoch + 1, 0)}
        # the commit point of the epoch: one file, one rename
        checkpoint.save(
            run / CHECKPOINT,
            network=network,
            optimizer=optimizer,
            scheduler=scheduler,
            scaler=scaler,
            state=state,
            best_weights=None if improved else best_weights,
        )
        write_logs(run, history)

    finished = bool(history) and history[-1]["epoch"] == cfg.epochs
    result = FitResult(run if dist.main else None, network, history)
    if dist.main and finished:
        result.bundle = _finish(cfg, run, best, best_weights, patients, len(train), len(val))
    distributed.barrier(dist)
    return result


def _finish(cfg: TrainConfig, run: Path, best: dict, weights: dict, patients: dict, n_train: int, n_val: int) -> Path:
    """Write the bundle (best epoch's weights), confusion matrix and summary, each in one rename."""
    metrics = {"best_epoch": best["epoch"]}
    if best.get("validation"):
        v = best["validation"]
        metrics["validation"] = {
            "data": Path(cfg.val_data or cfg.data).name,
            "sheet": cfg.val_sheet,
            "recording_level": v["recording_level"],
            "patient_level": v["patient_level"],
        }
        cm = v["patient_level"]["confusion_matrix"]
        title = f"{cfg.name}: validation, patient level (epoch {best['epoch']})"
        checkpoint.atomic_write(
            run / "confusion.png", lambda tmp: save_confusion_png(tmp, cm, CLASSES, title=title), fsync=False
        )
    card = _card(cfg, patients, n_train, n_val, metrics)
    bundle = checkpoint.atomic_write(run / BUNDLE, lambda tmp: save_bundle(tmp, weights, card))
    summary = json.dumps({"run_dir": str(run), "bundle": str(bundle), **metrics}, indent=1, allow_nan=False)
    checkpoint.atomic_write(run / SUMMARY, lambda tmp: tmp.write_text(summary, encoding="utf-8"))  # last: finished
    say(f"bundle written: {one_line(bundle)}")
    return bundle


def fit_from_files(
    config: str | None,
    overrides: list[str],
    *,
    resume: str | None,
    dry_run: bool,
    progress: bool,
    stop_after: int | None = None,
) -> FitResult:
    """``fit`` as the CLI calls it: a resumed run reads its own config.yaml first."""
    if resume:
        run = Path(resume)
        if not (run / "config.yaml").is_file():
            raise UsageError(f"{run}: not a run folder (no config.yaml).")
        cfg = load_config(run / "config.yaml", overrides)
    else:
        cfg = load_config(config, overrides)
    return fit(cfg, resume=resume, dry_run=dry_run, progress=progress, stop_after=stop_after)
