"""The per-task wrappers `(searcher, task) -> searcher` that plug rewriting and reranking into
the evaluation harness, on the tiny BRIGHT-layout task against the scripted endpoint."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from llm_searcher_helpers import ScriptedOpenAIServer, judge_and_rewrite, load_tiny_task, openai_llm

from reasonembed.errors import ConfigError
from reasonembed.remixer.prompts import BRIGHT_DOMAINS
from reasonembed.retrieval.bm25 import BM25Searcher
from reasonembed.retrieval.rerank import PER_TASK, RerankingSearcher, RerankWrapper
from reasonembed.retrieval.rewrite import RewriteWrapper, RewritingSearcher, build_rewriter

_script = judge_and_rewrite(lambda query, doc: 3, lambda query: f"{query} reasoned")


def test_wrappers_compose_per_task_and_describe_themselves(tmp_path: Path) -> None:
    task = load_tiny_task(tmp_path / "tiny")
    with ScriptedOpenAIServer(_script) as server:
        llm = openai_llm(server)
        rewrite = RewriteWrapper(build_rewriter(llm, tmp_path / "cache"))
        rerank = RerankWrapper(llm, tmp_path / "cache", depth=3)
        searcher = rerank(rewrite(BM25Searcher(task.doc_ids, task.doc_texts), task), task)
        assert isinstance(searcher, RerankingSearcher) and isinstance(searcher.inner, RewritingSearcher)
        run = searcher.batch_search(task.query_texts, task.query_ids, 5, task.excluded)
        assert server.calls == len(task.query_ids) * (1 + 3)
    assert all(len(hits) == 5 for hits in run.values())
    assert rewrite.describe()["rewrite"]["counts"]["generated"] == len(task.query_ids)
    described = rerank.describe()["rerank"]
    assert described["depth"] == 3 and described["domains"] == {"generic": {"pairs": 12, "cached": 0, "status_ok": 12, "score_3": 12}}


def test_per_task_domain_uses_the_task_name_and_refuses_unknown_names(tmp_path: Path) -> None:
    task = load_tiny_task(tmp_path / "tiny")
    with ScriptedOpenAIServer(_script) as server:
        rerank = RerankWrapper(openai_llm(server), tmp_path / "cache", depth=2, domain=PER_TASK)
        with pytest.raises(ConfigError, match="tiny"):
            rerank(BM25Searcher(task.doc_ids, task.doc_texts), task)
        biology = replace(task, name="biology")
        searcher = rerank(BM25Searcher(task.doc_ids, task.doc_texts), biology)
        searcher.batch_search(task.query_texts[:1], task.query_ids[:1], 2)
        assert BRIGHT_DOMAINS["biology"].relevance_definition in server.bodies[-1]["messages"][0]["content"]
        fixed = RerankWrapper(openai_llm(server), tmp_path / "cache", depth=2, domain="leetcode")
        fixed(BM25Searcher(task.doc_ids, task.doc_texts), biology).batch_search(task.query_texts[:1],
                                                                             task.query_ids[:1], 2)
        assert BRIGHT_DOMAINS["leetcode"].relevance_definition in server.bodies[-1]["messages"][0]["content"]
