"""InfoNCE over a query's positive, its hard negatives and every other passage in the (global) batch.

This is the "basic InfoNCE" of ReasonEmbed (the ReasonEmbed-Basic models) and the per-sample loss
that RI-InfoNCE re-weights. The formula lives in `infonce_per_sample`; the module only embeds the
columns and gathers across devices.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reasonembed.losses.distributed import gather_labels, gather_no_grad, gather_with_grad

CITATION = """@article{chen2025reasonembed,
  title   = {ReasonEmbed: Enhanced Text Embeddings for Reasoning-Intensive Document Retrieval},
  author  = {Chen, Jianlyu and Lan, Junwei and Li, Chaofan and Lian, Defu and Liu, Zheng},
  journal = {arXiv preprint arXiv:2510.08252},
  year    = {2025}
}"""


def infonce_per_sample(
    queries: torch.Tensor, passages: torch.Tensor, labels: torch.Tensor, temperature: float
) -> torch.Tensor:
    """L_i = -log softmax_j(s(q_i, p_j) / tau)[labels_i]; s = dot product (cosine for normalised vectors).

    queries [N, d], passages [M, d], labels [N] (index of q_i's positive among the M passages) -> [N].
    Scores are taken in fp32 even under bf16/fp16 autocast or with half-precision embeddings: at tau = 0.02
    a bf16 cosine (8 mantissa bits) is off by up to ~0.004, i.e. ~0.2 in the logit, which moved per-sample
    losses by up to 5.5%. The [N, M] product is tiny next to the encoder, so fp32 costs nothing noticeable.
    """
    with torch.autocast(queries.device.type, enabled=False):
        scores = queries.float() @ passages.float().T / temperature  # [N, M], fp32
        return F.cross_entropy(scores, labels, reduction="none")  # [N]


class InfoNCELoss(nn.Module):
    r"""InfoNCE with in-batch and cross-device negatives.

    .. math::
        L = \frac{1}{N} \sum_i -\log \frac{\exp(s(q_i, p_i^+)/\tau)}{\sum_{p \in P} \exp(s(q_i, p)/\tau)}

    P is every passage of the global batch: q_i's positive, its hard negatives and every other query's
    positive and negatives, on every device (ReasonEmbed §3.2, the released `modeling.py`; the basic
    InfoNCE baseline of Table 2).

    Args:
        model: the `Embedder` (or any module mapping tokenized features to [B, d] embeddings).
        temperature: tau; 0.02 in ReasonEmbed (METHOD.md §4.2).
        cross_device: gather queries and passages from every rank of the default process group, so each
            query also sees the other devices' passages as negatives.

    Inputs:
        +------------------------------------------+-----------------------------------------------+
        | features (column -> tokenized batch)     | labels                                        |
        +==========================================+===============================================+
        | "query" [B], "passages" [B * group_size] | index of each query's positive in "passages"  |
        +------------------------------------------+-----------------------------------------------+

    Relations:
        RIInfoNCELoss with all weights equal (or during its warm-up) equals this loss.

    Example:
        >>> from reasonembed.embedder import Embedder
        >>> emb = Embedder()
        >>> loss = InfoNCELoss(emb, temperature=0.02)
        >>> q = emb.tokenize(["what is 2+2?"], 32)
        >>> p = emb.tokenize(["two plus two is four", "the sky is blue"], 32)
        >>> out = loss({"query": q, "passages": p}, torch.tensor([0]))
        >>> sorted(out)
        ['infonce', 'loss']
    """

    columns: tuple[str, ...] = ("query", "passages")

    def __init__(self, model: nn.Module, temperature: float = 0.02, cross_device: bool = True) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}")
        self.model = model
        self.temperature = float(temperature)
        self.cross_device = bool(cross_device)

    def embedding_columns(self, features: dict[str, Any]) -> dict[str, bool]:
        """Columns to embed this step -> whether their embeddings need a gradient."""
        missing = [c for c in ("query", "passages") if c not in features]
        if missing:
            raise ValueError(f"{type(self).__name__} needs feature columns {list(self.columns)}; missing {missing}")
        return {"query": True, "passages": True}

    def forward(self, features: dict[str, dict[str, torch.Tensor]], labels: torch.Tensor) -> dict[str, torch.Tensor]:
        embeddings = {}
        for column, needs_grad in self.embedding_columns(features).items():
            with torch.set_grad_enabled(needs_grad and torch.is_grad_enabled()):
                embeddings[column] = self.model(features[column])
        return self.compute_loss_from_embeddings(embeddings, labels)

    def gather(self, embeddings: dict[str, torch.Tensor], labels: torch.Tensor) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Local embeddings and labels -> global ones (identity without cross-device negatives)."""
        if not self.cross_device:
            return embeddings, labels
        out = {k: gather_with_grad(v) if v.requires_grad else gather_no_grad(v) for k, v in embeddings.items()}
        return out, gather_labels(labels, embeddings["passages"].shape[0])

    def compute_loss_from_embeddings(
        self, embeddings: dict[str, torch.Tensor], labels: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        emb, labels = self.gather(embeddings, labels)  # query [N, d], passages [M, d], labels [N]
        losses = infonce_per_sample(emb["query"], emb["passages"], labels, self.temperature)  # [N]
        loss = losses.mean()  # []
        return {"loss": loss, "infonce": loss.detach()}

    def get_config_dict(self) -> dict[str, Any]:
        return {"temperature": self.temperature, "cross_device": self.cross_device}

    @property
    def citation(self) -> str:
        return CITATION
