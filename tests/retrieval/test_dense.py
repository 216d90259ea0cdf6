"""Exact dense search: excluded ids, "N/A", ties in trec_eval order, top-k, numpy == faiss."""

from __future__ import annotations

import numpy as np
import pytest

from reasonembed.retrieval.dense import DenseSearcher, DocIndex, rank_row


def _unit(rows: list[list[float]]) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    return a / np.linalg.norm(a, axis=1, keepdims=True)


def test_excluded_ids_removed_before_ranking_and_na_ignored() -> None:
    docs = _unit([[1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5]])
    ids = ["a", "b", "c", "N/A"]  # a document may even be called "N/A": the rule still ignores it
    searcher = DenseSearcher(ids, docs)
    q = _unit([[1, 0], [1, 0]])
    out = searcher.search_embeddings(q, ["q1", "q2"], k=2, excluded={"q1": ["a", "N/A"], "q2": ["zz"]})
    assert [h.docid for h in out["q1"]] == ["b", "N/A"]  # a removed, next two fill the top 2
    assert [h.docid for h in out["q2"]] == ["a", "b"]  # unknown excluded id is harmless


def test_ties_broken_by_docid_descending_including_at_the_cutoff() -> None:
    index = DocIndex(["d1", "d3", "d2", "d4"])
    hits = rank_row(np.array([0.5, 0.5, 0.9, 0.5]), index, k=2)
    assert [(h.docid, h.score) for h in hits] == [("d2", 0.9), ("d4", 0.5)]  # d4 > d3 > d1 among ties
    assert [h.docid for h in rank_row(np.array([0.5, 0.5, 0.9, 0.5]), index, k=10)] == [
        "d2",
        "d4",
        "d3",
        "d1",
    ]


def test_top_k_and_everything_excluded() -> None:
    index = DocIndex(["a", "b", "c"])
    scores = np.array([0.1, 0.3, 0.2])
    assert [h.docid for h in rank_row(scores, index, k=1)] == ["b"]
    assert rank_row(scores, index, k=5, excluded_pos=np.array([0, 1, 2])) == []


def test_top_1000_kept() -> None:
    rng = np.random.default_rng(0)
    docs = _unit(rng.normal(size=(1500, 8)).tolist())
    out = DenseSearcher([f"d{i:04d}" for i in range(1500)], docs).search_embeddings(docs[:1], ["q"], k=1000)
    scores = [h.score for h in out["q"]]
    assert len(scores) == 1000 and scores == sorted(scores, reverse=True) and out["q"][0].docid == "d0000"


def test_faiss_backend_equals_numpy_backend() -> None:
    rng = np.random.default_rng(1)
    docs = _unit(rng.normal(size=(600, 16)).tolist())
    docs[10] = docs[11]  # an exact tie
    queries = _unit(rng.normal(size=(20, 16)).tolist())
    queries[0] = docs[10]
    ids = [f"doc{i}" for i in range(600)]
    qids = [f"q{i}" for i in range(20)]
    excluded = {"q0": ["doc10"], "q3": [f"doc{i}" for i in range(0, 600, 2)]}
    a = DenseSearcher(ids, docs, backend="numpy").search_embeddings(queries, qids, 50, excluded)
    b = DenseSearcher(ids, docs, backend="faiss").search_embeddings(queries, qids, 50, excluded)
    for qid in qids:
        assert [h.docid for h in a[qid]] == [h.docid for h in b[qid]]
        np.testing.assert_allclose([h.score for h in a[qid]], [h.score for h in b[qid]], atol=1e-5)
    assert a["q0"][0].docid == "doc11"
    assert all(int(h.docid[3:]) % 2 == 1 for h in a["q3"])


def test_shape_and_backend_checks() -> None:
    with pytest.raises(ValueError, match="does not match"):
        DenseSearcher(["a"], np.zeros((2, 3)))
    with pytest.raises(ValueError, match="backend"):
        DenseSearcher(["a"], np.zeros((1, 3)), backend="hnsw")
    with pytest.raises(ValueError, match="without an encoder"):
        DenseSearcher(["a"], np.ones((1, 3))).search("query")


def test_rank_candidates_applies_rank_rows_rule_to_an_ann_list() -> None:
    from reasonembed.retrieval.dense import rank_candidates

    index = DocIndex(["d1", "d3", "d2", "d4"])
    positions = np.array([0, 1, 3, 2, -1])  # what an IVF/HNSW index might return, -1 = no candidate
    scores = np.array([0.5, 0.5, 0.5, 0.9, -1.0])
    full = np.array([0.5, 0.5, 0.9, 0.5])
    for k in (1, 2, 3, 4):
        assert rank_candidates(positions, scores, index, k) == rank_row(full, index, k)
    assert [h.docid for h in rank_candidates(positions, scores, index, 2, np.array([2]))] == ["d4", "d3"]
