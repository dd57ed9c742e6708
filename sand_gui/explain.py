"""Why the model decided: occlusion of meaningful regions, Grad-CAM, and a listenable explanation.

The regions are spans a clinician can name and check (``explain_regions``: the F0 band, the
formant region, onset/middle/offset of a vowel; each syllable's burst and vowel), on the
model's own mel/time grid.

``occlusion`` hides one region at a time in the model input and reports the drop in the predicted
class's recording-level probability, windowed and averaged exactly as the pipeline does. What
hides a cell (``baseline``): ``"median"`` (default), its mel row's median over the recording, so
the typical spectrum stays and what happens in the region goes; ``"mean"``, the row's mean, which
leaks a short loud event back into its own row (in a trial of the tests' constructed case, a
random-order deletion curve with it stayed at P = 0.998 to the end); ``"zero"``, the standardised channel mean, loud in a quiet band.
``grad_cam`` weights a ConvNeXt stage's activations by their gradients (Selvaraju et al. 2017,
ICCV); ``deletion_curve`` measures how faithful a ranking is (the probability as the top-ranked
cells are hidden first; a lower area is more faithful); ``listenable`` writes a WAV that keeps
only the regions that carried the decision.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UsageError, one_line
from .explain_regions import (  # noqa: F401 - re-exported: the regions are part of this module's API
    BURST_S,
    EDGE_S,
    F0_FACTOR,
    F0_RANGE_HZ,
    FORMANT_BAND_HZ,
    Region,
    _samples,
    estimate_f0,
    find_regions,
    mel_rows,
    syllable_onsets,
    time_frames,
)
from .features import FeatureSpec
from .pipeline import prepare_task
from .plots import hz_to_mel, mel_to_hz  # noqa: F401 - re-exported
from .tasks import get_task

BASELINES = ("mean", "median", "zero")
ATTENUATION_DB = 30.0


@dataclass
class RegionScore:
    region: Region
    probability: float  # of the predicted class with the region hidden
    drop: float  # original probability - probability


@dataclass
class Explanation:
    """Occlusion's answer for one recording: scores sorted by drop, largest first."""

    file: str
    task_id: str
    predicted_class: int
    probability: float
    probabilities: dict[int, float]
    baseline: str
    offset_s: float  # time of feature frame 0 in the recording (start of the kept audio)
    shape: tuple[int, int]  # (n_mels, frames) of the features
    scores: list[RegionScore] = field(default_factory=list)

    def top(self, k: int = 3) -> list[RegionScore]:
        """The ``k`` regions whose hiding lowered the probability most (only positive drops)."""
        return [s for s in self.scores if s.drop > 0][:k]

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "task": self.task_id,
            "predicted_class": self.predicted_class,
            "probability": round(self.probability, 6),
            "probabilities": {str(c): round(p, 6) for c, p in self.probabilities.items()},
            "baseline": self.baseline,
            "offset_s": round(self.offset_s, 4),
            "shape": list(self.shape),
            "regions": [
                {**s.region.to_dict(), "probability": round(s.probability, 6), "drop": round(s.drop, 6)}
                for s in self.scores
            ],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)


@dataclass
class DeletionCurve:
    """Probability of the predicted class as the highest-ranked cells are hidden first."""

    fractions: list[float]
    probabilities: list[float]

    @property
    def auc(self) -> float:
        """Area under the curve over fractions 0..1: lower means a more faithful ranking."""
        f, p = np.asarray(self.fractions), np.asarray(self.probabilities)
        return float(np.sum((f[1:] - f[:-1]) * (p[1:] + p[:-1]) / 2))

    def points(self) -> list[tuple[float, float]]:
        return list(zip(self.fractions, self.probabilities))


# -- regions -------------------------------------------------------------------------------------

regions = find_regions  # the name the issue uses; ``occlusion`` has a keyword of that name


# -- occlusion, Grad-CAM, deletion ----------------------------------------------------------------


def occlusion(classifier, path, task_id: str, *, regions: Sequence[Region] | None = None, baseline: str = "median"):
    """The drop in the predicted class's recording probability when each region is hidden.

    ``regions`` defaults to ``regions(path, ...)``. Returns an ``Explanation`` sorted by drop.
    """

    spec = classifier.spec
    prepared, _ = prepare_task(path, task_id=task_id, spec=spec)
    found = find_regions(path, spec=spec, task_id=task_id) if regions is None else list(regions)
    feats = prepared.features
    fill = _baseline(feats, baseline)
    probs = _occluded_probs(classifier, feats, fill, found)
    cls = int(np.argmax(probs[0]))
    numbers = list(classifier.card.class_numbers)
    scores = [RegionScore(r, float(p[cls]), float(probs[0][cls] - p[cls])) for r, p in zip(found, probs[1:])]
    scores.sort(key=lambda s: -s.drop)
    return Explanation(
        file=Path(path).name,
        task_id=get_task(task_id).id,
        predicted_class=numbers[cls],
        probability=float(probs[0][cls]),
        probabilities={int(c): float(p) for c, p in zip(numbers, probs[0])},
        baseline=baseline,
        offset_s=prepared.voiced.start / spec.sample_rate,
        shape=(int(feats.shape[1]), int(feats.shape[2])),
        scores=scores,
    )


def grad_cam(classifier, path, task_id: str, *, target: int | None = None, stage: int = -1) -> np.ndarray:
    """Grad-CAM of the last ConvNeXt stage for the predicted class (or class number ``target``):
    [shape=(n_mels, frames)] on the features' grid, >= 0, largest value 1 (all 0 when no evidence).

    Each window's map is upsampled to the window; overlapping windows are averaged per frame.
    ``stage`` picks another ConvNeXt stage (-2: the one before the last, twice the resolution).
    """
    import torch
    import torch.nn.functional as F

    from .model import class_probabilities

    prepared, _ = prepare_task(path, task_id=task_id, spec=classifier.spec)
    net, device = classifier.network, next(classifier.network.parameters()).device
    w = prepared.windows.to(device)
    with torch.enable_grad():
        x = net.stem(w)
        stages = list(net.stages)
        k = stage % len(stages)
        for block in stages[:k]:
            x = block(x)
        act = stages[k](x)
        x = act
        for block in stages[k + 1 :]:
            x = block(x)
        logits = net.forward_head(net.norm_pre(x))
        objective = getattr(classifier.card, "objective", "softmax")
        probs = class_probabilities(logits, objective=objective)
        if target is None:
            cls = int(probs.detach().mean(0).argmax())
        else:
            cls = list(classifier.card.class_numbers).index(int(target))
        # the class's score: its logit (softmax, as Grad-CAM defines it) or, for an ordinal
        # objective whose outputs are not per class, the log of its probability
        score = logits[:, cls] if objective == "softmax" else torch.log(probs[:, cls] + 1e-12)
        (grads,) = torch.autograd.grad(score.sum(), act)
    cam = torch.relu((grads.mean(dim=(2, 3), keepdim=True) * act.detach()).sum(1, keepdim=True))
    cam = F.interpolate(cam, size=tuple(w.shape[-2:]), mode="bilinear", align_corners=False)[:, 0].cpu().numpy()
    heat = _unwindow(cam, total=prepared.features.shape[-1], n_frames=classifier.spec.n_frames)
    top = float(heat.max())
    return (heat / top if top > 0 else heat).astype(np.float32)


def deletion_curve(
    classifier, path, task_id: str, ranking, *, steps: int = 10, baseline: str = "median", seed: int = 0
):
    """Hide the cells ranked most important first, ``1/steps`` of the grid at a time.

    ``ranking``: an importance map [shape=(n_mels, frames)] (e.g. ``grad_cam``) or regions in
    order of importance (an ``Explanation`` or a list of ``Region``; cells outside every region
    come last). Ties are broken in a fixed random order (``seed``). Returns a ``DeletionCurve``.
    """
    import torch

    prepared, _ = prepare_task(path, task_id=task_id, spec=classifier.spec)
    feats = prepared.features
    score = importance_map(ranking, shape=tuple(feats.shape[1:]))
    tie = np.random.default_rng(seed).random(score.shape) * 1e-6
    order = np.argsort(-(score + tie), axis=None)
    fill = _baseline(feats, baseline)
    fractions = np.linspace(0.0, 1.0, steps + 1)
    variants = []
    for f in fractions:
        mask = np.zeros(score.size, dtype=bool)
        mask[order[: int(round(f * score.size))]] = True
        m = torch.from_numpy(mask.reshape(score.shape))
        variants.append(torch.where(m, fill, feats))
    probs = _recording_probs(classifier, torch.stack(variants))
    cls = int(np.argmax(probs[0]))
    return DeletionCurve([float(f) for f in fractions], [float(p[cls]) for p in probs])


def importance_map(ranking, *, shape: tuple[int, int]) -> np.ndarray:
    """A ranking as a cell importance map [shape=shape]: an array as it is; regions scored by rank."""
    if isinstance(ranking, Explanation):
        ranking = [s.region for s in ranking.scores]
    if isinstance(ranking, np.ndarray):
        if ranking.shape != tuple(shape):
            raise UsageError(f"the ranking's shape {ranking.shape} is not the features' shape {tuple(shape)}.")
        return ranking.astype(np.float64)
    score = np.zeros(shape)
    for i, r in enumerate(reversed(list(ranking))):
        (a, b), (c, d) = r.rows, r.frames
        score[a:b, c:d] = i + 1.0
    return score


# -- listening --------------------------------------------------------------------------------------


def listenable(
    path,
    spec: FeatureSpec,
    explanation: Explanation,
    out_wav,
    *,
    top_k: int = 3,
    attenuation_db: float = ATTENUATION_DB,
) -> Path:
    """Write ``out_wav``: the recording with only its ``top_k`` decisive regions (positive drop) at
    full level, each limited to its band by STFT masking, and everything else ``attenuation_db``
    quieter (``inf``: silent). 16-bit WAV at ``spec.sample_rate``, written atomically."""
    import soundfile as sf
    from scipy.signal import istft, stft

    from .files import atomic_path

    chosen = [s.region for s in explanation.top(top_k)]
    if not chosen:
        raise UsageError(
            f"{one_line(explanation.file)}: hiding no region lowered the predicted class's probability, "
            "so there is nothing to play."
        )
    x = _samples(path, spec=spec)
    sr, hop = spec.sample_rate, spec.hop_length
    freqs, times, z = stft(x, fs=sr, nperseg=spec.n_fft, noverlap=spec.n_fft - hop)
    floor = 0.0 if np.isinf(attenuation_db) else 10 ** (-abs(attenuation_db) / 20)
    f_min, f_max = spec.band(get_task(explanation.task_id).family)
    gain = np.full(z.shape, floor)
    for r in chosen:
        lo = 0.0 if r.f0_hz <= f_min else r.f0_hz  # a full-band region keeps every frequency
        hi = sr / 2 if r.f1_hz >= f_max else r.f1_hz
        gain[np.ix_((freqs >= lo) & (freqs <= hi), (times >= r.t0) & (times <= r.t1))] = 1.0
    _, y = istft(z * gain, fs=sr, nperseg=spec.n_fft, noverlap=spec.n_fft - hop)
    y = np.clip(np.nan_to_num(y[: len(x)]), -1.0, 1.0).astype(np.float32)
    out = Path(out_wav)
    with atomic_path(out) as tmp:
        sf.write(str(tmp), y, sr, format="WAV", subtype="PCM_16")
    return out


# -- helpers ---------------------------------------------------------------------------------------


def _baseline(feats, baseline: str):
    """What hides a cell: [shape=(3, m, t)] like ``feats``."""
    import torch

    if baseline == "mean":
        return feats.mean(dim=-1, keepdim=True).expand_as(feats)
    if baseline == "median":
        return feats.median(dim=-1, keepdim=True).values.expand_as(feats)
    if baseline == "zero":
        return torch.zeros_like(feats)
    raise UsageError(f"baseline {one_line(repr(baseline), limit=40)} is unknown; choose one of {', '.join(BASELINES)}.")


def _recording_probs(classifier, variants) -> np.ndarray:
    """Recording probabilities [shape=(v, c)] of feature variants [shape=(v, 3, m, t)], one batch."""
    import torch

    from .features import to_windows
    from .model import recording_probabilities

    windows = [to_windows(v, n_frames=classifier.spec.n_frames) for v in variants]
    probs, _ = classifier.predict(torch.cat(windows))
    out, i = [], 0
    for w in windows:
        out.append(recording_probabilities(probs[i : i + len(w)]))
        i += len(w)
    return np.stack(out)


def _occluded_probs(classifier, feats, fill, found: Sequence[Region]) -> np.ndarray:
    """Recording probabilities [shape=(1 + r, c)]: of ``feats`` as it is, then with each region hidden.

    Exact but cheap: only the windows a region touches go through the network again; the
    others keep the unoccluded windows' probabilities before the mean is taken.
    """
    import torch

    from .features import to_windows, window_starts
    from .model import recording_probabilities

    n = classifier.spec.n_frames
    starts = window_starts(feats.shape[-1], n_frames=n)
    base, _ = classifier.predict(to_windows(feats, n_frames=n))
    batch, hits = [], []
    for r in found:
        (a, b), (c, d) = r.rows, r.frames
        v = feats.clone()
        v[:, a:b, c:d] = fill[:, a:b, c:d]
        hit = [j for j, s in enumerate(starts) if s < d and s + n > c]
        batch.append(to_windows(v, n_frames=n)[hit])
        hits.append(hit)
    new, _ = classifier.predict(torch.cat(batch)) if batch else (np.zeros((0, base.shape[1])), "")
    out, i = [recording_probabilities(base)], 0
    for hit in hits:
        p = base.copy()
        p[hit] = new[i : i + len(hit)]
        out.append(recording_probabilities(p))
        i += len(hit)
    return np.stack(out)


def _unwindow(cams: np.ndarray, *, total: int, n_frames: int) -> np.ndarray:
    """Per-window maps [shape=(w, m, n_frames)] -> one map [shape=(m, total)], averaged where windows overlap."""
    from .features import window_starts

    acc = np.zeros((cams.shape[1], max(total, n_frames)))
    count = np.zeros(acc.shape[1])
    for cam, s in zip(cams, window_starts(total, n_frames=n_frames)):
        acc[:, s : s + n_frames] += cam
        count[s : s + n_frames] += 1
    return (acc / np.maximum(count, 1))[:, :total]
