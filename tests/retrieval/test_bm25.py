"""BM25: classic equals rank_bm25 exactly; BM25Q equals gensim's LuceneBM25Model formulas."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.retrieval.bm25 import BM25Searcher, simple_tokenize


def test_classic_equals_rank_bm25_on_dev_corpus(shared_data: Path) -> None:
    from rank_bm25 import BM25Okapi

    task = load_eval_dataset(shared_data / "theoremqa_q_dev").tasks["theoremqa_q_dev"]
    ours = BM25Searcher(task.doc_ids, task.doc_texts, "classic")
    ref = BM25Okapi([simple_tokenize(t) for t in task.doc_texts])
    for query in task.query_texts[:40] + ["the the the limit limit", "zzzz unseen words"]:
        np.testing.assert_allclose(
            ours.get_scores(query), ref.get_scores(simple_tokenize(query)), rtol=0, atol=1e-9
        )


def _gensim_lucene_scores(docs: list[list[str]], query: list[str], k1: float, b: float) -> list[float]:
    """gensim LuceneBM25Model + SparseMatrixSimilarity, transcribed term by term with dicts."""
    n = len(docs)
    df = Counter(t for d in docs for t in set(d))
    avgdl = sum(len(d) for d in docs) / n
    idf = {t: math.log(n + 1.0) - math.log(f + 0.5) for t, f in df.items()}

    def weights(bag: Counter) -> dict[str, float]:
        length = sum(bag.values())
        return {t: idf[t] * tf / (tf + k1 * (1 - b + b * length / avgdl)) for t, tf in bag.items()}

    qw = weights(Counter(t for t in query if t in df))  # doc2bow drops unknown terms
    return [sum(w * weights(Counter(d)).get(t, 0.0) for t, w in qw.items()) for d in docs]


def test_bm25q_equals_gensim_lucene_formula() -> None:
    docs = [
        ["graph", "search", "search", "node"],
        ["heap", "sort"],
        ["graph", "edge", "node", "node", "tree"],
        ["sort", "merge", "merge"],
        [],
    ]
    queries = [["graph", "node", "node", "unknown"], ["sort", "sort", "merge"], ["nothing"]]
    searcher = BM25Searcher(
        [f"d{i}" for i in range(len(docs))], [" ".join(d) for d in docs], "bm25q", tokenizer=str.split
    )
    assert (searcher.k1, searcher.b) == (0.9, 0.4)
    for q in queries:
        expected = _gensim_lucene_scores(docs, q, 0.9, 0.4)
        np.testing.assert_allclose(searcher.get_scores(" ".join(q)), expected, rtol=0, atol=1e-12)


def test_bm25q_ranks_as_brights_pyserini_gensim_pipeline(shared_data: Path) -> None:
    """Top 10 of every TheoremQA-Q dev query equals BRIGHT's own BM25 (fixture made with pyserini + gensim)."""
    task = load_eval_dataset(shared_data / "theoremqa_q_dev").tasks["theoremqa_q_dev"]
    searcher = BM25Searcher(task.doc_ids, task.doc_texts, "bm25q")
    ours = searcher.batch_search(task.query_texts, task.query_ids, k=10, excluded=task.excluded)
    fixture = Path(__file__).parent / "fixtures" / "bright_bm25_theoremqa_q_dev.jsonl"
    with open(fixture, encoding="utf-8") as fh:
        official = {row["query_id"]: row["top"] for row in map(json.loads, fh)}
    assert sorted(official) == sorted(task.query_ids)
    for qid, top in official.items():
        # trec_eval's order: score descending, then doc id descending (gensim's scores are float32)
        top = sorted(top, key=lambda pair: pair[0], reverse=True)
        want = sorted(top, key=lambda pair: pair[1], reverse=True)[:10]
        assert [h.docid for h in ours[qid]] == [d for d, _ in want], qid
        np.testing.assert_allclose([h.score for h in ours[qid]], [s for _, s in want], rtol=1e-6)


def test_query_side_weighting_differs_from_classic() -> None:
    docs = ["alpha beta", "beta gamma gamma", "alpha alpha delta"] + [f"filler{i}" for i in range(7)]
    ids = [f"d{i}" for i in range(len(docs))]
    q = BM25Searcher(ids, docs, "bm25q", tokenizer=str.split).get_scores("alpha alpha alpha beta")
    c = BM25Searcher(ids, docs, "classic", tokenizer=str.split).get_scores("alpha alpha alpha beta")
    assert q.max() > 0 and c.max() > 0 and not np.allclose(q / q.max(), c / c.max())


def test_batch_search_excludes_and_ties() -> None:
    ids = ["a", "b", "c", "d"] + [f"f{i}" for i in range(6)]
    searcher = BM25Searcher(ids, ["x y", "x y", "z", "x"] + ["w"] * 6, "classic")
    hits = searcher.batch_search(["x y"], ["q"], k=3, excluded={"q": ["N/A", "a"]})["q"]
    assert [h.docid for h in hits] == ["b", "d", "f5"]  # a excluded; then zero scores, docid descending
    assert hits[2].score == 0.0
    tied = searcher.search("x y", k=2)
    assert [h.docid for h in tied] == ["b", "a"] and tied[0].score == tied[1].score  # tie: docid descending


def test_bad_variant() -> None:
    with pytest.raises(ValueError, match="variant"):
        BM25Searcher(["a"], ["x"], "bm42")
