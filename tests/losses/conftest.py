"""Tiny models for loss tests: a torch-only bag-of-embeddings encoder and the bundled MiniLM."""

from __future__ import annotations

import copy

import pytest
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


@pytest.fixture(scope="session")
def _minilm(minilm_path: str):
    from reasonembed.embedder import Embedder

    return Embedder(minilm_path, max_query_length=32, max_doc_length=32, device="cpu")


@pytest.fixture
def minilm(_minilm):
    """A fresh copy of the bundled MiniLM Embedder cut to one layer (speed), in train mode (dropout on)."""
    model = copy.deepcopy(_minilm)
    model.backbone.encoder.layer = model.backbone.encoder.layer[:1]
    model.train()
    return model
