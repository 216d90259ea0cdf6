"""Approximate indexes: parameters, recall@10 against exact, persisted and extended on add."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reasonembed.index import ann, build_index, load_index, open_searcher


def _unit(rows: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_params_resolve_from_corpus_size() -> None:
    p = ann.AnnParams(kind="ivf").resolved(10_000)
    assert p.nlist == 256 and p.nprobe == 32  # min(4*sqrt(n), n/39); max(8, nlist/8)
    small = ann.AnnParams(kind="ivf").resolved(100)
    assert small.nlist == 2 and small.nprobe == 2
    with pytest.raises(ValueError, match="not one of flat, ivf, hnsw"):
        ann.AnnParams(kind="pq")


def test_recall_is_one_for_exact_and_lower_for_a_starved_ivf() -> None:
    vectors = _unit(2000)
    flat = ann.build_ann(vectors, ann.AnnParams("flat"))
    assert ann.recall_at_k(flat, vectors, sample=200) == 1.0
    starved = ann.build_ann(vectors, ann.AnnParams("ivf", nlist=40, nprobe=1))
    full = ann.build_ann(vectors, ann.AnnParams("ivf", nlist=40, nprobe=40))
    r_starved = ann.recall_at_k(starved, vectors, sample=200)
    assert r_starved < 0.9
    assert ann.recall_at_k(full, vectors, sample=200) == pytest.approx(1.0)
    hnsw = ann.build_ann(vectors, ann.AnnParams("hnsw"))
    assert ann.recall_at_k(hnsw, vectors, sample=200) > 0.9


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_index_reports_recall_and_serves_queries(write_corpus, tmp_path, theoremqa_docs, embedder, kind) -> None:
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:40])
    out = tmp_path / "idx"
    report = build_index(corpus, out, embedder, kind=kind, show_progress=False)
    manifest = json.loads((out / "manifest.json").read_text())
    assert report.kind == kind and manifest["ann"]["kind"] == kind
    assert 0.0 <= report.recall_at_10 <= 1.0
    assert manifest["ann"]["recall_at_10"] == report.recall_at_10
    assert (out / manifest["faiss"]["file"]).exists()
    searcher = open_searcher(out, embedder)
    doc = theoremqa_docs[7]
    assert searcher.search(doc["content"], k=3)[0].docid == doc["id"]

    # adding documents keeps the kind and extends the stored index
    more = write_corpus(tmp_path / "more.jsonl", theoremqa_docs[40:50])
    report = build_index(more, out, embedder, show_progress=False)
    assert report.kind == kind and report.count == 50
    assert load_index(out).faiss_index.ntotal == 50

    # switching back to flat drops the ANN file
    build_index(more, out, embedder, kind="flat", show_progress=False)
    assert not list(out.glob("faiss*"))
    assert load_index(out).kind == "flat"
