"""GradCache: any embedding loss over a batch far larger than fits in memory, same loss and gradients.

Gao et al. 2021 ("Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup"). The
wrapped loss owns the formula; this wrapper only changes *how* embeddings are computed:

1. embed every column in mini-batches without a graph, remembering the RNG state before each one;
2. run the loss's `compute_loss_from_embeddings` on leaf copies of those embeddings and take
   d(loss)/d(embeddings) right away (the graph holds no encoder, so this is cheap);
3. when the trainer calls `backward()`, re-embed each mini-batch with a
   graph, replaying the remembered RNG state so dropout draws the same masks, and back-propagate the
   cached gradient through it.

Peak activation memory is one mini-batch; ReasonEmbed used `sub_batch_size 4` for 1,024-passage batches.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


def _rng_state(device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def _set_rng_state(state: tuple[torch.Tensor, torch.Tensor | None], device: torch.device) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def _split(features: dict[str, torch.Tensor], size: int) -> list[dict[str, torch.Tensor]]:
    rows = next(iter(features.values())).shape[0]
    return [{k: v[i : i + size] for k, v in features.items()} for i in range(0, rows, size)]


class _ReplayOnBackward(torch.autograd.Function):
    """Identity on the loss value; its backward runs the cached-gradient pass."""

    @staticmethod
    def forward(ctx, loss: torch.Tensor, replay: Any, *anchors: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        ctx.replay, ctx.n_anchors = replay, len(anchors)  # anchors (the leaf embeddings) link it to the graph
        return loss.clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor) -> tuple[None, ...]:  # type: ignore[override]
        ctx.replay(grad_output)
        return (None, None) + (None,) * ctx.n_anchors


class GradCache(nn.Module):
    """Wrap a loss (`InfoNCELoss`, `RIInfoNCELoss`, ...) so its embeddings are computed in mini-batches.

    Args:
        loss: a loss with `model`, `embedding_columns(features)` and `compute_loss_from_embeddings`.
        mini_batch_size: rows embedded at once (queries or passages).

    Relations:
        `GradCache(loss)(features, labels)` returns the same values, and after `backward()` leaves the
        same parameter gradients, as `loss` embedding the same mini-batches with a graph (dropout included).
    """

    def __init__(self, loss: nn.Module, mini_batch_size: int = 32) -> None:
        super().__init__()
        if mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be >= 1, got {mini_batch_size!r}")
        self.loss = loss
        self.mini_batch_size = int(mini_batch_size)

    @property
    def model(self) -> nn.Module:
        return self.loss.model

    def forward(self, features: dict[str, dict[str, torch.Tensor]], labels: torch.Tensor) -> dict[str, torch.Tensor]:
        columns = self.loss.embedding_columns(features)
        model = self.loss.model
        chunks: dict[str, list[dict[str, torch.Tensor]]] = {}
        states: dict[str, list[Any]] = {}
        leaves: dict[str, torch.Tensor] = {}
        for column, needs_grad in columns.items():
            chunks[column] = _split(features[column], self.mini_batch_size)
            states[column], parts = [], []
            with torch.no_grad():
                for chunk in chunks[column]:
                    device = chunk["input_ids"].device
                    states[column].append(_rng_state(device))
                    parts.append(model(chunk))
            emb = torch.cat(parts, dim=0)
            leaves[column] = emb.requires_grad_(needs_grad and torch.is_grad_enabled())
        with torch.enable_grad():
            out = self.loss.compute_loss_from_embeddings(leaves, labels)
        trainable = [c for c, needs in columns.items() if needs and leaves[c].requires_grad]
        if not out["loss"].requires_grad or not trainable:
            return out
        # d(loss)/d(embeddings) is cheap (no encoder in the graph); it scales linearly with the upstream
        # gradient, so it is taken now and multiplied by that gradient in the backward pass.
        grads = torch.autograd.grad(out["loss"], [leaves[c] for c in trainable])

        def replay(grad_output: torch.Tensor) -> None:
            for column, grad in zip(trainable, grads):
                start = 0
                for chunk, state in zip(chunks[column], states[column]):
                    device = chunk["input_ids"].device
                    rows = chunk["input_ids"].shape[0]
                    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
                        _set_rng_state(state, device)
                        with torch.enable_grad():
                            emb = model(chunk)
                        emb.backward(grad[start : start + rows] * grad_output)
                    start += rows

        loss = _ReplayOnBackward.apply(out["loss"].detach(), replay, *[leaves[c] for c in trainable])
        return {**out, "loss": loss}

    def get_config_dict(self) -> dict[str, Any]:
        return {**self.loss.get_config_dict(), "gradcache_mini_batch_size": self.mini_batch_size}
