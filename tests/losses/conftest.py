"""Fixtures for loss tests: the bundled MiniLM (cut to one layer), a fresh copy per test."""

from __future__ import annotations

import copy

import pytest


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
