"""Fixtures for index tests: one MiniLM embedder per session and small real corpora (TheoremQA dev docs)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "src" / "reasonembed" / "data" / "theoremqa_q_dev" / "documents.jsonl"


def _write_corpus(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def write_corpus():
    """write_corpus(path, records) -> path: records as JSONL."""
    return _write_corpus


@pytest.fixture(scope="session")
def theoremqa_docs() -> list[dict]:
    """The first 60 TheoremQA dev documents ({id, content})."""
    with DOCS.open(encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(60), handle, strict=False)]


@pytest.fixture(scope="session")
def embedder(minilm_embedder):
    return minilm_embedder


@pytest.fixture(scope="session")
def flat_index(tmp_path_factory: pytest.TempPathFactory, theoremqa_docs: list[dict], embedder) -> Path:
    """A flat index with a BM25 side index over 60 documents (built once, read-only in tests)."""
    from reasonembed.index import build_index

    root = tmp_path_factory.mktemp("flat")
    corpus = _write_corpus(root / "docs.jsonl", theoremqa_docs)
    build_index(corpus, root / "idx", embedder, bm25=True, shard_size=25, show_progress=False)
    return root / "idx"
