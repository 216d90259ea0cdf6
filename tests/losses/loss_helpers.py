"""Helpers for loss tests: a torch-only bag-of-embeddings encoder, random token batches, the 3x4 example."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class TinyEncoder(nn.Module):
    """Mean of token embeddings -> dropout -> linear -> L2 norm; same features as an HF tokenizer."""

    def __init__(self, vocab: int = 50, dim: int = 8, dropout: float = 0.0, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.emb = nn.Embedding(vocab, dim)
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Linear(dim, dim)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        mask = features["attention_mask"].unsqueeze(-1).float()
        x = self.drop(self.emb(features["input_ids"]))
        pooled = (x * mask).sum(1) / mask.sum(1)
        return F.normalize(self.proj(pooled), dim=-1)


def random_features(rows: int, length: int = 6, vocab: int = 50, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, vocab, (rows, length), generator=g)
    mask = torch.ones(rows, length, dtype=torch.long)
    for r in range(rows):  # ragged lengths, right padded
        keep = 2 + int(torch.randint(0, length - 1, (1,), generator=g))
        mask[r, keep:] = 0
        ids[r, keep:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def batch_features(queries: int, group: int, seed: int = 0) -> tuple[dict, torch.Tensor]:
    features = {
        "query": random_features(queries, seed=seed),
        "reasoning_query": random_features(queries, seed=seed + 1),
        "passages": random_features(queries * group, seed=seed + 2),
    }
    return features, torch.arange(queries) * group


# 3 queries x 4 passages, 2-d unit vectors; positives are passages 0, 1, 2; tau = 0.5 (scores x 2).
Q = [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]
P = [[1.0, 0.0], [0.0, 1.0], [0.8, 0.6], [-1.0, 0.0]]
LABELS = [0, 1, 2]
# Hand-computed: s/tau rows are [2, 0, 1.6, -2], [0, 2, 1.2, 0], [1.2, 1.6, 1.92, -1.2]
# L_i = -s_i+/tau + log sum_j exp(s_ij/tau)
L_HAND = [
    -2.0 + math.log(math.exp(2) + 1 + math.exp(1.6) + math.exp(-2)),  # = log(13.477) - 2 = 0.6010
    -2.0 + math.log(1 + math.exp(2) + math.exp(1.2) + 1),  # = log(12.709) - 2 = 0.5423
    -1.92 + math.log(math.exp(1.2) + math.exp(1.6) + math.exp(1.92) + math.exp(-1.2)),  # = log(15.395) - 1.92 = 0.8141
]
