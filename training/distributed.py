"""Multi-GPU / multi-node training with PyTorch's distributed runtime.

Launch with ``torchrun --nproc_per_node N -m training fit --config ...`` (add
``--nnodes``/``--rdzv-endpoint`` for several machines). torchrun sets RANK, WORLD_SIZE
and LOCAL_RANK; without them training runs as a single process. The backend is NCCL on
CUDA and gloo on the CPU. Each rank draws its share of the same oversampled epoch
(``data.OversampledSampler``); DistributedDataParallel averages gradients, so every rank
holds the same weights after every step. Only rank 0 writes the run folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        return self.rank == 0


def select_local_gpu() -> None:
    """Under torchrun, make this rank's GPU the current one before anything touches CUDA."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and "LOCAL_RANK" in os.environ:
        import torch

        if torch.cuda.is_available():
            torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))


def init(device: str) -> Dist:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    import torch
    import torch.distributed as dist

    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device == "cuda":
        torch.cuda.set_device(local)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device == "cuda" else "gloo")
    return Dist(rank, world, local)


def barrier(d: Dist) -> None:
    if d.enabled:
        import torch.distributed as dist

        dist.barrier()


def wrap(network, d: Dist, device: str):
    """DistributedDataParallel around ``network`` when distributed, else the network."""
    if not d.enabled:
        return network
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(network, device_ids=[d.local_rank] if device == "cuda" else None)


def all_mean(value: float, d: Dist, device: str = "cpu") -> float:
    """Mean of a float over ranks (the epoch loss)."""
    if not d.enabled:
        return value
    import torch
    import torch.distributed as dist

    t = torch.tensor([value], dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return float(t.item()) / d.world


def shutdown(d: Dist) -> None:
    if d.enabled:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()
