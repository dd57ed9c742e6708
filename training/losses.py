"""Losses: focal loss with class weights (the seed's), and the class weights themselves.

Focal loss (Lin et al. 2017): ``-w[y] * (1 - p_y)**gamma * log p_y``, averaged over the
batch; ``gamma = 0`` with unit weights is plain cross-entropy.

Class weights ``balanced`` are inverse class frequencies *as the sampler draws them*, i.e.
after oversampling, scaled to mean 1. The seed oversamples and weights; weighting by the
raw frequencies (``balanced_raw``) on top of 21x oversampling would count the imbalance
twice and make class 1 dominate, so ``balanced`` is the default.

CORN (``loss: corn``; Shi, Cao & Raschka, "Deep neural networks for rank-consistent ordinal
regression based on conditional probabilities", arXiv:2111.08851, Pattern Analysis and
Applications 2023) treats the K ordered classes as K-1 binary tasks "is the class above
k?", task k trained only on the samples whose class is at least k (the conditional subset),
so the cumulative probabilities it yields, products of the conditional ones, can never
contradict each other. The network's head keeps its K outputs; CORN reads the first K-1 as
its logits and the last one is unused (it gets no gradient). ``sand_gui.model.class_probabilities``
turns the K-1 logits back into K class probabilities, for training, ``evaluate`` and the app.
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


def corn_loss(logits, target, *, weight=None):
    """Mean CORN loss of logits [shape=(b, >= c-1)] (the first c-1 columns are read; c = the
    number of classes, ``weight``'s length or the logits' width) against class indices [shape=(b,)].

    Task k is a binary cross-entropy of ``target > k`` over the samples with ``target >= k``;
    the sum over tasks is divided by the number of (sample, task) pairs, as in the paper.
    ``weight`` [shape=(c,)] scales each sample's terms by its class's weight.
    """
    import torch
    import torch.nn.functional as F

    n_classes = len(weight) if weight is not None else logits.shape[1]
    z = logits[:, : n_classes - 1].float()
    k = torch.arange(n_classes - 1, device=z.device)
    target = target.to(z.device)
    member = (target[:, None] >= k[None, :]).float()  # sample i is in task k's conditional subset
    above = (target[:, None] > k[None, :]).float()
    terms = F.binary_cross_entropy_with_logits(z, above, reduction="none") * member
    if weight is not None:
        w = weight.to(z.device).float()[target][:, None]
        terms, member = terms * w, member * w
    return terms.sum() / member.sum().clamp_min(1e-12)


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
    if cfg.loss == "corn":
        return lambda logits, target: corn_loss(logits, target, weight=weight)
    if cfg.loss == "focal":
        gamma = cfg.focal_gamma
    elif cfg.loss == "cross_entropy":
        gamma = 0.0
    else:
        raise UsageError(f"loss {cfg.loss!r} is unknown; use focal, cross_entropy or corn.")
    return lambda logits, target: focal_loss(logits, target, gamma=gamma, weight=weight)
