"""Augmentation of training windows [shape=(b, 3, n_mels, n_frames)], on any device.

SpecAugment (Park et al. 2019) masks bands of mel channels and spans of frames, on a
share ``p`` of the samples (the seed: 70 %). Masked cells are set to 0, the mean of the
standardised features; a mask covers the three channels [mel, delta, delta-delta] alike.

The seed also applied image transforms (flips, rotation, colour jitter). On a spectrogram
only some make sense, so all are options, off by default:
- time shift (circular roll along time): sensible; a random crop already shifts, so it
  adds little;
- horizontal flip (time reversal): dubious: reverses onsets and decays, turns /pa/ into /ap/;
- vertical flip (frequency reversal): meaningless: low and high mel bands trade places;
- rotation: meaningless: mixes time with frequency;
- colour jitter (per-channel gain and offset): the features are standardised per
  recording, so it mostly breaks the relation between a channel and its deltas.
"""

from __future__ import annotations

import math

from .config import TrainConfig


def _span(size: int, share: float, generator) -> tuple[int, int]:
    import torch

    width = int(torch.randint(0, max(1, int(size * share)) + 1, (1,), generator=generator))
    start = int(torch.randint(0, max(1, size - width + 1), (1,), generator=generator))
    return start, width


def spec_augment(x, *, p: float, freq_masks: int, freq_width: float, time_masks: int, time_width: float, generator):
    """Mask mel bands and frame spans of a share ``p`` of the samples, in place; returns ``x``."""
    import torch

    _, _, m, t = x.shape
    chosen = torch.rand(len(x), generator=generator) < p
    for i in torch.nonzero(chosen).flatten().tolist():
        for _ in range(freq_masks):
            s, w = _span(m, freq_width, generator)
            x[i, :, s : s + w, :] = 0
        for _ in range(time_masks):
            s, w = _span(t, time_width, generator)
            x[i, :, :, s : s + w] = 0
    return x


def image_transforms(
    x, *, time_shift: float, hflip_p: float, vflip_p: float, rotation_deg: float, color_jitter: float, generator
):
    """The seed's image transforms (see the module note); each is skipped at 0."""
    import torch

    b = len(x)
    if time_shift > 0:
        limit = max(1, int(x.shape[-1] * time_shift))
        for i, s in enumerate(torch.randint(-limit, limit + 1, (b,), generator=generator).tolist()):
            x[i] = torch.roll(x[i], s, dims=-1)
    if hflip_p > 0:
        flip = torch.rand(b, generator=generator) < hflip_p
        x[flip] = x[flip].flip(-1)
    if vflip_p > 0:
        flip = torch.rand(b, generator=generator) < vflip_p
        x[flip] = x[flip].flip(-2)
    if rotation_deg > 0:
        import torch.nn.functional as F

        angles = (torch.rand(b, generator=generator) * 2 - 1) * math.radians(rotation_deg)
        cos, sin = torch.cos(angles), torch.sin(angles)
        theta = torch.stack(
            [torch.stack([cos, -sin, torch.zeros(b)], 1), torch.stack([sin, cos, torch.zeros(b)], 1)], 1
        )
        grid = F.affine_grid(theta.to(x.device, x.dtype), list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, align_corners=False)
    if color_jitter > 0:
        gain = 1 + (torch.rand(b, x.shape[1], 1, 1, generator=generator) * 2 - 1) * color_jitter
        shift = (torch.rand(b, x.shape[1], 1, 1, generator=generator) * 2 - 1) * color_jitter
        x = x * gain.to(x.device) + shift.to(x.device)
    return x


def augment(x, *, cfg: TrainConfig, generator):
    """All training augmentation of a batch of windows, as the config asks."""
    x = image_transforms(
        x,
        time_shift=cfg.time_shift,
        hflip_p=cfg.hflip_p,
        vflip_p=cfg.vflip_p,
        rotation_deg=cfg.rotation_deg,
        color_jitter=cfg.color_jitter,
        generator=generator,
    )
    if cfg.specaugment_p > 0:
        x = spec_augment(
            x,
            p=cfg.specaugment_p,
            freq_masks=cfg.freq_masks,
            freq_width=cfg.freq_mask_width,
            time_masks=cfg.time_masks,
            time_width=cfg.time_mask_width,
            generator=generator,
        )
    return x
