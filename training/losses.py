"""Losses: focal loss with class weights (the seed's), and the class weights themselves.

Focal loss (Lin et al. 2017): ``-w[y] * (1 - p_y)**gamma * log p_y``, averaged over the
batch; ``gamma = 0`` with unit weights is plain cross-entropy.

Class weights ``balanced`` are inverse class frequencies *as the sampler draws them*, i.e.
after oversampling, scaled to mean 1. The seed oversamples and weights; weighting by the
raw frequencies (``balanced_raw``) on top of 21x oversampling would count the imbalance
twice and make class 1 dominate, so ``balanced`` is the default.
"""

from __future__ import annotations

from sand_gui.errors import UsageError

from .config import TrainConfig


def focal_loss(logits, target, *, gamma: float = 2.0, weight=None):
    """Mean focal loss of logits [shape=(b, c)] against class indices [shape=(b,)]."""
    import torch.nn.functional as F

    logp = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)
    loss = -((1 - logp.exp()) ** gamma) * logp if gamma else -logp
    if weight is not None:
        loss = loss * weight.to(loss.device)[target]
    return loss.mean()


def class_weights(cfg: TrainConfig, *, raw_counts: dict[int, int], sampled_counts: dict[int, int], class_numbers):
    """Per-class loss weights [shape=(c,)] as the config asks, or None."""
    import torch

    choice = cfg.class_weights
    if choice in (None, "none"):
        return None
    if isinstance(choice, list):
        if len(choice) != len(class_numbers):
            raise UsageError(f"class_weights lists {len(choice)} values; {len(class_numbers)} classes need one each.")
        return torch.tensor([float(w) for w in choice])
    if choice not in ("balanced", "balanced_raw"):
        raise UsageError(f"class_weights {choice!r} is unknown; use balanced, balanced_raw, none or a list.")
    counts = sampled_counts if choice == "balanced" else raw_counts
    present = [c for c in class_numbers if counts.get(c, 0) > 0]
    total = sum(counts[c] for c in present)
    w = torch.tensor([total / (len(present) * counts[c]) if counts.get(c, 0) else 0.0 for c in class_numbers])
    return w / w[w > 0].mean()


def make_loss(cfg: TrainConfig, weight):
    """The training criterion: ``fn(logits, target) -> scalar``."""
    if cfg.loss == "focal":
        gamma = cfg.focal_gamma
    elif cfg.loss == "cross_entropy":
        gamma = 0.0
    else:
        raise UsageError(f"loss {cfg.loss!r} is unknown; use focal or cross_entropy.")
    return lambda logits, target: focal_loss(logits, target, gamma=gamma, weight=weight)
