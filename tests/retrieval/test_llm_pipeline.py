"""Rewrite -> (BM25 + dense fusion) -> LLM rerank, end to end on a tiny BRIGHT-layout task, scored
with pytrec_eval: once against the scripted endpoint, once offline with the bundled SmolLM2."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from llm_searcher_helpers import ScriptedOpenAIServer, judge_and_rewrite, load_tiny_task, openai_llm

from reasonembed.evaluation.metrics import mean_metrics, score_run
from reasonembed.llm import LLMConfig, SamplingParams, build_llm
from reasonembed.retrieval.base import clean_excluded
from reasonembed.retrieval.bm25 import BM25Searcher
from reasonembed.retrieval.dense import DenseSearcher
from reasonembed.retrieval.fusion import fuse
from reasonembed.retrieval.rerank import LLMReranker, RerankingSearcher
from reasonembed.retrieval.rewrite import QueryRewriter, RewritingSearcher


def _run(searcher, task: Any, k: int = 10) -> dict[str, dict[str, float]]:
    hits = searcher.batch_search(task.query_texts, task.query_ids, k, task.excluded)
    return {qid: {h.docid: h.score for h in hs} for qid, hs in hits.items()}


def _assert_valid_run(run: dict[str, dict[str, float]], task: Any) -> dict[str, float]:
    assert set(run) == set(task.query_ids)
    for qid, docs in run.items():
        assert docs and not set(docs) & clean_excluded(task.excluded.get(qid))
        assert set(docs) <= set(task.doc_ids)
    per_query = score_run(task.qrels, run)
    assert set(per_query) == set(task.query_ids)
    metrics = mean_metrics(per_query)
    assert all(0.0 <= v <= 1.0 for v in metrics.values())
    return metrics


def test_rewrite_fusion_rerank_compose_into_a_valid_scored_run(tmp_path: Path, minilm_embedder) -> None:
    task = load_tiny_task(tmp_path / "tiny")
    text_of = dict(zip(task.doc_ids, task.doc_texts, strict=True))
    gold_by_query = {q: set(task.qrels[qid]) for qid, q in zip(task.query_ids, task.query_texts, strict=True)}
    id_of = {t: d for d, t in text_of.items()}
    judged_queries: set[str] = set()

    def contrary(query: str, doc: str) -> int:  # 1 for gold documents, 5 otherwise
        judged_queries.add(query)
        return 1 if id_of[doc] in gold_by_query[query] else 5

    script = judge_and_rewrite(contrary, lambda query: f"{query} explained")

    bm25 = BM25Searcher(task.doc_ids, task.doc_texts)
    dense = DenseSearcher(task.doc_ids, minilm_embedder.encode_documents(task.doc_texts), encoder=minilm_embedder)
    first_stage = fuse(bm25, dense, "rrf", depth=10)
    with ScriptedOpenAIServer(script) as server:
        llm = openai_llm(server)
        rewritten = RewritingSearcher(first_stage, QueryRewriter(llm, tmp_path / "cache"))
        pipeline = RerankingSearcher(rewritten, LLMReranker(llm, tmp_path / "cache"), 10, text_of)
        run = _run(pipeline, task)
    assert judged_queries == set(task.query_texts)  # the judge sees the user's query, not the rewrite
    assert rewritten.rewritten == {qid: f"{q} explained" for qid, q in zip(task.query_ids, task.query_texts, strict=True)}
    metrics = _assert_valid_run(run, task)
    base = _assert_valid_run(_run(first_stage, task), task)
    # the whole list is within depth: the judge's order wins, so every gold document sinks to the bottom
    for qid, docs in run.items():
        ranked = sorted(docs, key=docs.get, reverse=True)
        assert set(ranked[-len(task.qrels[qid]):]) == set(task.qrels[qid])
    assert metrics["ndcg@10"] < base["ndcg@10"]


@pytest.fixture(scope="module")
def smollm2():
    import torch

    # One intra-op thread: on the shared, oversubscribed 2-core machine, two torch threads decoded
    # SmolLM2 many times slower than one (they wait on each other whenever one is descheduled).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield build_llm(LLMConfig(backend="local", batch_size=8))
    finally:
        torch.set_num_threads(threads)


# Not `slow`: 32 s (+15 s model load) with one torch thread on the shared 2-core machine at load ~10.
def test_offline_smollm2_rewrite_and_rerank_end_to_end(tmp_path: Path, smollm2) -> None:
    full = load_tiny_task(tmp_path / "tiny")
    keep = full.query_ids[:2]  # two queries, two judged documents each: a handful of local generations
    task = replace(full, query_ids=keep, query_texts=full.query_texts[:2], qrels={q: full.qrels[q] for q in keep})
    text_of = dict(zip(task.doc_ids, task.doc_texts, strict=True))
    bm25 = BM25Searcher(task.doc_ids, task.doc_texts)
    short = SamplingParams(temperature=0.0, top_p=1.0, top_k=None, max_tokens=24)

    def pipeline() -> tuple[RerankingSearcher, QueryRewriter, LLMReranker]:
        rewriter = QueryRewriter(smollm2, tmp_path / "cache", sampling=short)
        reranker = LLMReranker(smollm2, tmp_path / "cache", sampling=short, followup_max_tokens=4)
        return RerankingSearcher(RewritingSearcher(bm25, rewriter), reranker, 2, text_of), rewriter, reranker

    searcher, rewriter, reranker = pipeline()
    run = _run(searcher, task)
    _assert_valid_run(run, task)
    assert rewriter.stats["generated"] + rewriter.stats["failed"] + rewriter.stats["empty"] == len(task.query_ids)
    assert reranker.stats["pairs"] == 2 * len(task.query_ids) and reranker.stats["llm_failed"] == 0
    calls = smollm2.accounting.calls
    again, _, _ = pipeline()
    assert _run(again, task) == run  # everything from the caches
    assert smollm2.accounting.calls == calls
