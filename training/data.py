"""Training data: patients of a SAND sheet -> recordings -> cached features -> batches.

Splits are always by patient (a sheet or a manifest split lists patients, never
recordings), and ``check_disjoint`` refuses a patient found in two splits. Features are
made by the core's ``sand_gui.pipeline.prepare_task``, the very function the application
analyses with, and cached per recording as safetensors under ``<cache>/<spec hash>/``; an
entry is recomputed when its source file's size or modification time changes. A
recording that cannot be used is skipped and listed, never dropped silently.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sand_gui.dataset import (
    MANIFEST,
    TEST_SHEET,
    TRAIN_SHEET,
    TRAINING_SHEET,
    VALIDATION_SHEET,
    Patient,
    SandLayout,
    read_manifest_rows,
)
from sand_gui.errors import AudioError, DatasetError, one_line
from sand_gui.feature_cache import FeatureCache
from sand_gui.features import FeatureSpec, to_windows
from sand_gui.pipeline import prepare_task
from sand_gui.tasks import TASK_IDS

SHEET_ALIASES = {
    "train": TRAIN_SHEET,
    "val": VALIDATION_SHEET,
    "validation": VALIDATION_SHEET,
    "training": TRAINING_SHEET,
    "all": TRAINING_SHEET,
    "test": TEST_SHEET,
}


class Skip(str):
    """A line saying why a patient's recording is left out (``"ID003 phonationA: <reason>"``,
    or ``"ID003: <reason>"`` for the whole patient); a ``str``, with ``patient``, ``task``
    and ``reason`` for code that groups the lines by patient."""

    patient: str
    task: str | None
    reason: str

    def __new__(cls, patient: str, task: str | None, reason: object):
        reason = one_line(reason, limit=400)
        line = super().__new__(cls, f"{patient} {task}: {reason}" if task else f"{patient}: {reason}")
        line.patient, line.task, line.reason = patient, task, reason
        return line


@dataclass(frozen=True)
class RecordingRef:
    """One recording of one patient; ``label`` is None for unlabelled (test) patients."""

    patient: str
    task: str
    path: Path
    label: int | None


@dataclass
class Item:
    """A recording's features [shape=(3, n_mels, t)] (a CPU tensor) with its identity."""

    ref: RecordingRef
    features: object
    variants: list = field(default_factory=list)  # augmented copies' features (see load_variants)

    @property
    def label(self) -> int | None:
        return self.ref.label


def resolve_sheet(name: str) -> str:
    return SHEET_ALIASES.get(name.lower(), name) if name else name


def select_patients(layout: SandLayout, sheet: str) -> list[Patient]:
    """Patients of a sheet, an alias, ``labels.csv`` or ``labels.csv:<split>`` (Split column)."""
    sheet = resolve_sheet(sheet)
    manifest, _, split = sheet.partition(":")
    if manifest != MANIFEST or not split:
        return layout.patients(sheet)
    path = layout.manifest()
    if path is None:
        raise DatasetError(f"{MANIFEST}: manifest not found in {one_line(layout.root)}.")
    rows = read_manifest_rows(path)
    if rows and "Split" not in rows[0][1]:
        raise DatasetError(f"{MANIFEST}: no Split column to select split '{one_line(split)}' from.")
    chosen = [p for p, cells in rows if str(cells.get("Split") or "").strip().lower() == split.strip().lower()]
    if not chosen:
        raise DatasetError(f"{MANIFEST}: no patient has Split '{one_line(split)}'.")
    return chosen


def check_disjoint(splits: dict[str, list[Patient]]) -> None:
    """DatasetError when a patient appears in two splits (or twice in one)."""
    seen: dict[str, str] = {}
    for name, patients in splits.items():
        for p in patients:
            if p.id in seen:
                where = "twice in" if seen[p.id] == name else f"in both {seen[p.id]!r} and"
                raise DatasetError(f"patient {p.id} is {where} {name!r}; splits must be by patient.")
            seen[p.id] = name


def list_recordings(
    layout: SandLayout, patients: list[Patient], *, labelled: bool = True
) -> tuple[list[RecordingRef], list[Skip]]:
    """The recordings of ``patients`` in task order, and a line for each missing one.

    Each patient is looked for in its own split's audio (``Patient.split``: a test patient
    only under ``test/``), so a test ID equal to a training ID never borrows its audio.
    """
    refs: list[RecordingRef] = []
    missing: list[Skip] = []
    for p in patients:
        if labelled and p.label is None:
            raise DatasetError(
                f"{one_line(layout.root.name)}: patient {p.id} has no class; a labelled sheet is needed here."
            )
        found = layout.recordings(p.id, split=p.split)
        if not found:
            dirs = layout.split_dirs(p.split) if p.split else [layout.root]
            where = " or ".join(str(d) for d in dirs) if dirs else f"{layout.root} (it has no {p.split}/ task folders)"
            missing.append(Skip(p.id, None, f"no recordings found under {where}"))
            continue
        for task in TASK_IDS:
            if task in found:
                refs.append(RecordingRef(p.id, task, found[task], p.label))
            else:
                missing.append(Skip(p.id, task, "recording not found"))
    return refs, missing


def make_features(ref: RecordingRef, *, spec: FeatureSpec):
    """The core's features of one recording [shape=(3, n_mels, t)]; AudioError if unusable."""
    return prepare_task(ref.path, task_id=ref.task, spec=spec)[0].features


def load_items(
    refs: list[RecordingRef],
    *,
    spec: FeatureSpec,
    cache: str | Path | FeatureCache | None = None,
    progress: bool = False,
    desc: str = "features",
    workers: int = 1,
) -> tuple[list[Item], list[Skip]]:
    """Features of each recording (from the cache when fresh), and a line per skipped one;
    recordings not in the cache are computed by ``workers`` processes (``compute_all``)."""
    store = cache if isinstance(cache, FeatureCache) else FeatureCache(cache, spec) if cache else None
    found = {}
    for ref in refs:
        feats = store.get(ref) if store else None
        if feats is not None:
            store.hits += 1
            found[ref] = feats
    todo = [ref for ref in refs if ref not in found]
    skipped: list[Skip] = []
    jobs = [(_features_job, (ref, spec)) for ref in todo]
    for ref, (feats, error) in zip(todo, compute_all(jobs, workers=workers, progress=progress, desc=desc)):
        if error is not None:
            skipped.append(Skip(ref.patient, ref.task, error))
            continue
        if store:
            store.misses += 1
            store.put(ref, feats)
        found[ref] = feats
    return [Item(ref, found[ref]) for ref in refs if ref in found], skipped


def _features_job(ref: RecordingRef, spec: FeatureSpec):
    return make_features(ref, spec=spec)


def _run_job(job):
    """(result, None) or (None, the AudioError's sentence): what one job gives, in any process."""
    fn, args = job
    try:
        return fn(*args), None
    except AudioError as exc:
        return None, str(exc)


def compute_all(jobs: list, *, workers: int = 1, progress: bool = False, desc: str = "features"):
    """``[(result, error text or None)]`` of each ``(function, args)`` job, in order: in this
    process, or in ``workers`` spawned processes (spawn: the parent may hold torch's threads,
    which a fork would copy mid-lock). Results do not depend on ``workers``: every job's
    randomness is seeded by the job itself."""
    from tqdm import tqdm

    if workers <= 1 or len(jobs) < 2 * workers:
        return [_run_job(j) for j in tqdm(jobs, desc=desc, unit="rec", disable=not progress, leave=False)]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        chunk = max(1, min(32, len(jobs) // (4 * workers)))
        done = pool.map(_run_job, jobs, chunksize=chunk)
        return list(tqdm(done, total=len(jobs), desc=desc, unit="rec", disable=not progress, leave=False))


def make_variant(ref: RecordingRef, *, spec: FeatureSpec, aug, seed: int, variant: int):
    """Features [shape=(3, n_mels, t)] of augmented copy ``variant`` of a recording: the core's
    loading, then ``training.wave_augment.augment_wave``, then the core's ``prepare_input`` (trim,
    features), band-limited again as loading does. AudioError when the copy is unusable."""
    from sand_gui.audio import load_recording, lowpass
    from sand_gui.features import prepare_input
    from sand_gui.tasks import get_task

    from .wave_augment import augment_wave, variant_rng

    rec = load_recording(ref.path, sample_rate=spec.sample_rate, bandlimit_hz=spec.bandlimit_hz)
    rng = variant_rng(seed, ref.patient, ref.task, variant)
    wave, _ = augment_wave(rec.samples, sample_rate=spec.sample_rate, aug=aug, rng=rng)
    if spec.bandlimit_hz is not None and spec.bandlimit_hz < spec.sample_rate / 2:
        wave = lowpass(wave, sample_rate=spec.sample_rate, cutoff_hz=spec.bandlimit_hz)
    return prepare_input(wave, spec=spec, task=get_task(ref.task), name=ref.path.name).features


def load_variants(
    items: list[Item],
    *,
    spec: FeatureSpec,
    aug,
    seed: int,
    count: int,
    cache: str | Path | None = None,
    progress: bool = False,
    workers: int = 1,
) -> list[Skip]:
    """Give each item ``count`` augmented copies (``Item.variants``), from the cache when fresh.

    Copy v of a recording is the same for the same (seed, settings, recording, v), so its
    features are cached under ``<cache>/aug-<settings hash>-s<seed>-v<v>/<spec hash>/``, and the
    same whatever ``workers`` made it. A copy that is unusable (too short or voiceless after
    augmentation) is left out with a line.
    """
    stores = [
        FeatureCache(Path(cache) / f"aug-{aug.key()}-s{seed}-v{v}", spec) if cache else None for v in range(count)
    ]
    made: dict[tuple[int, int], object] = {}
    todo: list[tuple[int, int]] = []
    for i, it in enumerate(items):
        for v, store in enumerate(stores):
            feats = store.get(it.ref) if store else None
            if feats is None:
                todo.append((i, v))
            else:
                made[i, v] = feats
    jobs = [(make_variant_job, (items[i].ref, spec, aug, seed, v)) for i, v in todo]
    skipped: list[Skip] = []
    for (i, v), (feats, error) in zip(
        todo, compute_all(jobs, workers=workers, progress=progress, desc="augmented copies")
    ):
        ref = items[i].ref
        if error is not None:
            skipped.append(Skip(ref.patient, ref.task, f"augmented copy {v}: {error}"))
            continue
        if stores[v]:
            stores[v].put(ref, feats)
        made[i, v] = feats
    for i, it in enumerate(items):
        it.variants = [made[i, v] for v in range(count) if (i, v) in made]
    return skipped


def make_variant_job(ref: RecordingRef, spec: FeatureSpec, aug, seed: int, variant: int):
    return make_variant(ref, spec=spec, aug=aug, seed=seed, variant=variant)


# --- batches ---------------------------------------------------------------------------


def oversampled_indices(labels: list[int], factors: dict[int, int]) -> list[int]:
    """Each index repeated ``factors[label]`` times (1 for classes not named)."""
    return [i for i, y in enumerate(labels) for _ in range(int(factors.get(int(y), 1)))]


class OversampledSampler:
    """Per-epoch shuffle of the oversampled index list, split across distributed ranks.

    All ranks draw the same permutation (seeded by seed and epoch), pad it to a multiple
    of ``world`` and take every ``world``-th index, so the union over ranks is exactly the
    oversampled epoch, as ``DistributedSampler`` does for a plain dataset.
    """

    def __init__(self, labels: list[int], factors: dict[int, int], *, seed: int = 0, rank: int = 0, world: int = 1):
        self.indices = oversampled_indices(labels, factors)
        self.seed, self.rank, self.world = seed, rank, world
        self.epoch = 0
        self.per_rank = -(-len(self.indices) // world)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.per_rank

    def __iter__(self):
        import torch

        g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
        order = [self.indices[i] for i in torch.randperm(len(self.indices), generator=g).tolist()]
        order += order[: self.per_rank * self.world - len(order)]
        return iter(order[self.rank :: self.world])


def class_counts(labels: list[int], factors: dict[int, int] | None = None) -> dict[int, int]:
    """Recordings per class, optionally after oversampling."""
    counts = Counter(int(y) for y in labels)
    return {c: n * int((factors or {}).get(c, 1)) for c, n in sorted(counts.items())}


def random_window(feats, *, n_frames: int, generator):
    """One training window: a random ``n_frames`` crop of [shape=(3, m, t)], zero-padded if shorter."""
    import torch
    import torch.nn.functional as F

    t = feats.shape[-1]
    if t <= n_frames:
        return F.pad(feats, (0, n_frames - t))
    start = int(torch.randint(0, t - n_frames + 1, (1,), generator=generator))
    return feats[..., start : start + n_frames]


def pick_features(item: Item, *, generator):
    """The features a training draw uses: the clean ones, or, when the item has augmented
    copies, one of clean + copies drawn uniformly (no draw at all without copies, so runs
    without augmentation see exactly the batches they always saw)."""
    if not item.variants:
        return item.features
    import torch

    j = int(torch.randint(0, len(item.variants) + 1, (1,), generator=generator))
    return item.features if j == 0 else item.variants[j - 1]


def batches(items: list[Item], order, *, batch_size: int, n_frames: int, class_numbers, generator):
    """Yield (windows [shape=(b, 3, m, n_frames)], targets [shape=(b,)]) in sampler order."""
    import torch

    index = {c: i for i, c in enumerate(class_numbers)}
    order = list(order)
    for s in range(0, len(order), batch_size):
        chunk = order[s : s + batch_size]
        x = torch.stack(
            [
                random_window(pick_features(items[i], generator=generator), n_frames=n_frames, generator=generator)
                for i in chunk
            ]
        )
        y = torch.tensor([index[items[i].label] for i in chunk], dtype=torch.long)
        yield x, y


def eval_windows(items: list[Item], *, n_frames: int):
    """All inference windows of all items, stacked, and each item's slice into them."""
    import torch

    chunks = [to_windows(it.features, n_frames=n_frames) for it in items]
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    return torch.cat(chunks) if chunks else None, [slice(a, b) for a, b in itertools.pairwise(bounds)]
