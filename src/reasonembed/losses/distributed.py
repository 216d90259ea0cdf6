"""Cross-device gathering for contrastive losses, with gradients flowing through the local shard.

InfoNCE with cross-device negatives scores every query against every passage of the *global* batch.
`all_gather` alone returns tensors detached from the graph, so each rank re-inserts its own local
shard (which carries the autograd graph) into the gathered tensor. Every rank then computes the same
global loss L; in the backward pass the gradient that reaches each rank's slot is summed over all
ranks (an all-reduce), so after DDP averages parameter gradients over W ranks the result equals the
gradient of L on one process holding the whole global batch. Without a process group (or with one
rank) every function here is the identity.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(rank, world_size) of the default process group, (0, 1) when not distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _GatherWithGrad(torch.autograd.Function):
    """all_gather whose backward sums each slot's gradient over ranks and returns the local slot."""

    @staticmethod
    def forward(ctx, local: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        rank, size = world()
        ctx.rank, ctx.rows = rank, local.shape[0]
        parts = [torch.empty_like(local) for _ in range(size)]
        dist.all_gather(parts, local.contiguous())
        return torch.cat(parts, dim=0)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        start = ctx.rank * ctx.rows
        return grad[start : start + ctx.rows]


def gather_with_grad(local: torch.Tensor) -> torch.Tensor:
    """[n, ...] on each of W ranks -> [W*n, ...] in rank order; differentiable w.r.t. the local rows."""
    _, size = world()
    if size == 1:
        return local
    if not local.requires_grad:
        return gather_no_grad(local)
    return _GatherWithGrad.apply(local)


@torch.no_grad()
def gather_no_grad(local: torch.Tensor) -> torch.Tensor:
    """[n, ...] on each rank -> [W*n, ...] in rank order, no gradient."""
    _, size = world()
    if size == 1:
        return local
    parts = [torch.empty_like(local) for _ in range(size)]
    dist.all_gather(parts, local.contiguous())
    return torch.cat(parts, dim=0)


def gather_labels(labels: torch.Tensor, local_candidates: int) -> torch.Tensor:
    """Local positive indices [n] -> indices into the gathered candidates [W*n] (offset by rank)."""
    rank, size = world()
    if size == 1:
        return labels
    return gather_no_grad(labels + rank * local_candidates)
