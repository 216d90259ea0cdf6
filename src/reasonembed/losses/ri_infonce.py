"""RI-InfoNCE: InfoNCE re-weighted per sample by its reasoning intensity (ReasonEmbed's Redapter).

A sample whose loss drops a lot when the query is replaced by its reasoning-augmented version q'
"needs reasoning"; it gets more weight. The weights are recomputed every step from the current model
(self-adaptive). This file is the one place the RI formula lives.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

from reasonembed.losses.infonce import InfoNCELoss, infonce_per_sample

MAPPINGS = ("clamp",)
NORMALIZATIONS = ("l1",)


class RIInfoNCELoss(InfoNCELoss):
    r"""Reasoning-intensity-weighted InfoNCE.

    .. math::
        RI_i = \min\left(\frac{L_i}{L'_i + \epsilon}, \kappa\right), \quad
        w_i = \frac{RI_i}{\sum_j RI_j}, \quad
        L_{RI} = \sum_i w_i L_i

    L_i is InfoNCE of the original query q_i over its positive, its hard negatives and every passage of
    the global batch; L'_i is the same loss with the reasoning-augmented query q'_i, computed without
    gradient against the same (detached) passages. RI and w carry no gradient. During the first
    `warmup_steps` optimizer steps the loss is plain mean InfoNCE and q' is not embedded.
    Source: ReasonEmbed (arXiv 2510.08252) §3 "Redapter", Eq. RI_θ(s) and L_RI; constants from the
    released training code (`qri_start_step=100`, clamp [0, 5], "l1" normalisation; METHOD.md §3.2).

    Args:
        model: the `Embedder`.
        temperature: tau, 0.02 in ReasonEmbed.
        kappa: the cap of RI (5).
        warmup_steps: optimizer steps of plain InfoNCE before RI weighting starts (100). The trainer sets
            `self.step` to `state.global_step` before every forward.
        mapping: how the loss ratio becomes a weight: "clamp" = clamp(ratio, 0, kappa).
        normalization: "l1" = weights divided by their sum over the global batch.
        eps: added to L' in the ratio (1e-6 as released).
        cross_device: gather q, q' and passages from every rank (weights normalised over the global batch).

    Inputs:
        +--------------------------------------------------------------------+------------------------------+
        | features (column -> tokenized batch)                               | labels                       |
        +====================================================================+==============================+
        | "query" [B], "reasoning_query" [B] (q'), "passages" [B*group_size] | positive index in "passages" |
        +--------------------------------------------------------------------+------------------------------+

    Returns a dict: `loss` (weighted, with gradient), `infonce` (unweighted mean L), and once RI is active
    `ri_min`, `ri_median`, `ri_mean`, `ri_max`, `infonce_reasoning` (mean L').

    Relations:
        Equals `InfoNCELoss` when all weights are equal (e.g. kappa below every ratio) and during warm-up.

    Example:
        >>> from reasonembed.embedder import Embedder
        >>> emb = Embedder()
        >>> loss = RIInfoNCELoss(emb, warmup_steps=0)
        >>> f = {"query": emb.tokenize(["2+2?", "capital of France?"], 32),
        ...      "reasoning_query": emb.tokenize(["2+2? arithmetic: addition", "capital of France? Paris"], 32),
        ...      "passages": emb.tokenize(["two plus two is four", "Paris is the capital"], 32)}
        >>> out = loss(f, torch.tensor([0, 1]))
        >>> sorted(out)
        ['infonce', 'infonce_reasoning', 'loss', 'ri_max', 'ri_mean', 'ri_median', 'ri_min']
    """

    columns = ("query", "passages", "reasoning_query")

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 0.02,
        kappa: float = 5.0,
        warmup_steps: int = 100,
        mapping: Literal["clamp"] = "clamp",
        normalization: Literal["l1"] = "l1",
        eps: float = 1e-6,
        cross_device: bool = True,
    ) -> None:
        super().__init__(model, temperature=temperature, cross_device=cross_device)
        if mapping not in MAPPINGS:
            raise ValueError(f"mapping {mapping!r} is not one of {list(MAPPINGS)}")
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization {normalization!r} is not one of {list(NORMALIZATIONS)}")
        if not kappa > 0:
            raise ValueError(f"kappa must be > 0, got {kappa!r}")
        if warmup_steps < 0:
            raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps!r}")
        self.kappa = float(kappa)
        self.warmup_steps = int(warmup_steps)
        self.mapping = mapping
        self.normalization = normalization
        self.eps = float(eps)
        self.step = 0  # optimizer steps taken so far; set by the trainer

    @property
    def active(self) -> bool:
        """True once warm-up is over: RI weighting applies and q' is embedded."""
        return self.step >= self.warmup_steps

    def embedding_columns(self, features: dict[str, Any]) -> dict[str, bool]:
        columns = super().embedding_columns({k: v for k, v in features.items() if k != "reasoning_query"})
        if self.active:
            if "reasoning_query" not in features:
                raise ValueError("RIInfoNCELoss needs a 'reasoning_query' column (q') once warm-up is over")
            columns["reasoning_query"] = False  # q' is embedded without gradient
        return columns

    def reasoning_intensity(self, losses: torch.Tensor, reasoning_losses: torch.Tensor) -> torch.Tensor:
        """RI_i = clamp(L_i / (L'_i + eps), 0, kappa); [N], [N] -> [N], no gradient."""
        return (losses.detach() / (reasoning_losses.detach() + self.eps)).clamp(0.0, self.kappa)

    def compute_loss_from_embeddings(
        self, embeddings: dict[str, torch.Tensor], labels: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        emb, labels = self.gather(embeddings, labels)  # query [N, d], passages [M, d], labels [N]
        losses = infonce_per_sample(emb["query"], emb["passages"], labels, self.temperature)  # [N]
        if not self.active or "reasoning_query" not in emb:
            return {"loss": losses.mean(), "infonce": losses.mean().detach()}
        with torch.no_grad():
            reasoning_losses = infonce_per_sample(  # L'_i: q' against the same passages, [N]
                emb["reasoning_query"].detach(), emb["passages"].detach(), labels, self.temperature
            )
        ri = self.reasoning_intensity(losses, reasoning_losses)  # [N]
        total = ri.sum()  # [] (all-zero RI only when every L_i is 0: then equal weights)
        weights = torch.where(total > 0, ri / total, torch.full_like(ri, 1.0 / ri.numel()))  # [N], sums to 1
        loss = (weights * losses).sum()  # []
        return {
            "loss": loss,
            "infonce": losses.mean().detach(),
            "infonce_reasoning": reasoning_losses.mean(),
            "ri_min": ri.min(),
            "ri_median": ri.median(),
            "ri_mean": ri.mean(),
            "ri_max": ri.max(),
        }

    def get_config_dict(self) -> dict[str, Any]:
        return {
            **super().get_config_dict(),
            "kappa": self.kappa,
            "warmup_steps": self.warmup_steps,
            "mapping": self.mapping,
            "normalization": self.normalization,
            "eps": self.eps,
        }
