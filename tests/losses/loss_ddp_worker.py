"""Run under `torchrun --nproc_per_node 2 tests/losses/loss_ddp_worker.py OUT`: each rank takes its shard of one global batch, computes the
loss with cross-device negatives, back-propagates and averages gradients as DDP does; rank 0 saves
the loss and gradients for the test to compare with a single process holding the whole batch."""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist
from loss_helpers import TinyEncoder, batch_features

from reasonembed.losses import InfoNCELoss, RIInfoNCELoss

QUERIES, GROUP = 4, 3


def shard(features: dict, labels: torch.Tensor, rank: int, size: int) -> tuple[dict, torch.Tensor]:
    b = QUERIES // size
    q = slice(rank * b, (rank + 1) * b)
    p = slice(rank * b * GROUP, (rank + 1) * b * GROUP)
    local = {
        "query": {k: v[q] for k, v in features["query"].items()},
        "reasoning_query": {k: v[q] for k, v in features["reasoning_query"].items()},
        "passages": {k: v[p] for k, v in features["passages"].items()},
    }
    return local, torch.arange(b) * GROUP


def main(out_path: str) -> None:
    dist.init_process_group("gloo")
    rank, size = dist.get_rank(), dist.get_world_size()
    results = {}
    for kind in ("infonce", "ri_infonce"):
        model = TinyEncoder(seed=0)
        loss = InfoNCELoss(model, 0.05) if kind == "infonce" else RIInfoNCELoss(model, 0.05, warmup_steps=0)
        features, labels = batch_features(QUERIES, GROUP, seed=7)
        local, local_labels = shard(features, labels, rank, size)
        out = loss(local, local_labels)
        out["loss"].backward()
        for p in model.parameters():  # what DDP does after backward: average over ranks
            dist.all_reduce(p.grad)
            p.grad /= size
        results[kind] = {
            "parts": {k: v.item() for k, v in out.items()},
            "grads": {n: p.grad.clone() for n, p in model.named_parameters()},
        }
    if rank == 0:
        torch.save(results, out_path)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
