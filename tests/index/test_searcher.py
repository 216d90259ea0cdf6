"""IndexSearcher: exact top-k equals brute force, instruction applied, exclusions honoured, hybrid."""

from __future__ import annotations

import numpy as np
import pytest

from reasonembed.index import open_searcher
from reasonembed.index.searcher import IndexSearcher, hybrid_searcher, load_index
from reasonembed.index.store import IndexStore
from reasonembed.retrieval.base import Searcher


def test_top_k_equals_brute_force(flat_index, embedder) -> None:
    searcher = open_searcher(flat_index, embedder)
    assert isinstance(searcher, Searcher)
    query = "What is the Q value of a nuclear reaction?"
    hits = searcher.search(query, k=5)
    vectors = IndexStore.open(flat_index).read_vectors()
    ids = load_index(flat_index).ids
    scores = vectors @ embedder.encode_queries([query], instruction="")[0]
    order = np.argsort(-scores)[:5]
    assert [h.docid for h in hits] == [ids[i] for i in order]
    np.testing.assert_allclose([h.score for h in hits], scores[order], atol=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_instruction_is_applied_to_queries(flat_index, embedder) -> None:
    instruction = "Given a math problem, retrieve problems solved with the same theorem."
    plain = open_searcher(flat_index, embedder)
    instructed = open_searcher(flat_index, embedder, instruction=instruction)
    assert plain.with_instruction(instruction).instruction == instruction
    q = "Find the sum of a telescoping series"
    expected = embedder.encode_queries([q], instruction=instruction)
    np.testing.assert_allclose(instructed.encode_queries([q]), expected, atol=1e-6)
    assert not np.allclose(plain.encode_queries([q]), expected, atol=1e-3)
    hits = instructed.search(q, k=3)
    vectors = IndexStore.open(flat_index).read_vectors()
    assert hits[0].score == pytest.approx(float((vectors @ expected[0]).max()), abs=1e-5)


def test_excluded_ids_never_returned(flat_index, embedder, theoremqa_docs) -> None:
    searcher = open_searcher(flat_index, embedder)
    doc = theoremqa_docs[3]
    top = searcher.search(doc["content"], k=3)
    assert top[0].docid == doc["id"]
    runs = searcher.batch_search([doc["content"]], ["q1"], k=3, excluded={"q1": [doc["id"], "N/A"]})
    assert doc["id"] not in [h.docid for h in runs["q1"]]
    assert [h.docid for h in runs["q1"]][:2] == [h.docid for h in top[1:3]]
    assert len(runs["q1"]) == 3


def test_hybrid_fuses_dense_and_bm25(flat_index, embedder, theoremqa_docs) -> None:
    dense = IndexSearcher(load_index(flat_index), embedder)
    hybrid = hybrid_searcher(dense, "rrf")
    doc = theoremqa_docs[11]
    hits = hybrid.search(doc["content"], k=5)
    assert hits[0].docid == doc["id"]  # first by both sides -> 2/61
    assert hits[0].score == pytest.approx(2 / 61)
    score_fused = hybrid_searcher(dense, "score", alpha=0.5).search(doc["content"], k=5)
    assert score_fused[0].docid == doc["id"] and score_fused[0].score == pytest.approx(1.0)


def test_ties_at_the_cut_follow_the_exact_evaluation_rule(tmp_path, embedder, write_corpus, theoremqa_docs) -> None:
    """Identical texts under ids "a-dup" < "z-dup" score the same: trec_eval's order (docid
    descending) puts "z-dup" first, whatever order the index stored them in; the index searcher
    and evaluation's exact search (retrieval/dense.py) return the same hits."""
    from reasonembed.index import build_index
    from reasonembed.retrieval.dense import DenseSearcher

    text = theoremqa_docs[5]["content"]
    records = [{"id": "a-dup", "text": text}, *({"id": d["id"], "text": d["content"]} for d in theoremqa_docs[10:20]),
               {"id": "z-dup", "text": text}]
    build_index(write_corpus(tmp_path / "docs.jsonl", records), tmp_path / "idx", embedder, show_progress=False)
    searcher = open_searcher(tmp_path / "idx", embedder)
    index = load_index(tmp_path / "idx")
    exact = DenseSearcher(index.ids, IndexStore.open(tmp_path / "idx").read_vectors(), embedder, "")
    for k in (1, 2, 5):
        got = searcher.search(text, k=k)
        assert [h.docid for h in got] == [h.docid for h in exact.search(text, k=k)], k
    assert searcher.search(text, k=1)[0].docid == "z-dup"
    runs = searcher.batch_search([text], ["q"], k=1, excluded={"q": ["z-dup"]})
    assert [h.docid for h in runs["q"]] == ["a-dup"]
