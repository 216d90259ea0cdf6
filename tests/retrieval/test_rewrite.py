"""QueryRewriter / RewritingSearcher against the scripted OpenAI-compatible server (real HTTP)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from llm_searcher_helpers import Reply, ScriptedOpenAIServer, completion, openai_llm, post_of

from reasonembed.errors import RecordError
from reasonembed.io import FolderLock, FolderLockedError
from reasonembed.llm import LLMConfig
from reasonembed.retrieval.bm25 import BM25Searcher
from reasonembed.retrieval.rewrite import (
    REASON_PROMPT_VERSION,
    QueryRewriter,
    RewritingSearcher,
    build_rewriter,
    reason_messages,
)


def _echo(body, n):
    return Reply(body=completion(f"reasoning about {post_of(body)}"))


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_prompt_is_brights_reason_prompt_with_its_sampling(tmp_path: Path) -> None:
    messages = reason_messages("line one\nline two")
    assert len(messages) == 1 and messages[0]["role"] == "user"
    text = messages[0]["content"]
    assert text.startswith("line one line two\nInstructions:\n1. Identify the essential problem.\n")
    assert "2. Think step by step to reason and describe what information could be relevant" in text
    assert text.rstrip().endswith("3. Draft an answer with as many thoughts as you have.")
    with ScriptedOpenAIServer(_echo) as server:
        rewriter = QueryRewriter(openai_llm(server), tmp_path)
        assert rewriter.rewrite(["a\nb"]) == ["reasoning about a b"]  # the reasoning replaces the query
        body = server.bodies[0]
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (0.8, 0.8, 2048)
    assert body["messages"] == reason_messages("a\nb")


def test_second_run_makes_zero_llm_calls_and_duplicates_are_asked_once(tmp_path: Path) -> None:
    queries = ["what is a derivative", "why is the sky blue", "what is a derivative"]
    with ScriptedOpenAIServer(_echo) as server:
        first = QueryRewriter(openai_llm(server), tmp_path).rewrite(queries)
        assert server.calls == 2
        again = QueryRewriter(openai_llm(server), tmp_path)  # a new process would see the same files
        assert again.rewrite(queries) == first
        assert server.calls == 2
        assert again.stats["cached"] == 3 and again.stats["generated"] == 0
    records = _lines(tmp_path / "rewrite" / "rewrites.jsonl")
    assert len(records) == 2
    assert {r["prompt_version"] for r in records} == {REASON_PROMPT_VERSION}
    assert {r["model"] for r in records} == {"openai:scripted"}


def test_cache_is_keyed_on_model_and_sampling(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(_echo) as server:
        QueryRewriter(openai_llm(server, model="m1"), tmp_path).rewrite(["q"])
        QueryRewriter(openai_llm(server, model="m2"), tmp_path).rewrite(["q"])
        assert server.calls == 2
        from reasonembed.llm import SamplingParams

        QueryRewriter(openai_llm(server, model="m1"), tmp_path, sampling=SamplingParams(0.0, 1.0, None, 64)).rewrite(["q"])
        assert server.calls == 3
        QueryRewriter(openai_llm(server, model="m1"), tmp_path).rewrite(["q"])
        assert server.calls == 3


def test_resume_after_a_partial_cache_with_a_torn_last_line(tmp_path: Path) -> None:
    queries = [f"query number {i}" for i in range(4)]
    with ScriptedOpenAIServer(_echo) as server:
        QueryRewriter(openai_llm(server), tmp_path).rewrite(queries[:2])
        cache = tmp_path / "rewrite" / "rewrites.jsonl"
        with cache.open("a", encoding="utf-8") as handle:
            handle.write('{"key": "torn by a kill", "reasoning": "half')  # no newline: a killed writer
        out = QueryRewriter(openai_llm(server), tmp_path).rewrite(queries)
        assert server.calls == 4  # 2 before, 2 after: nothing asked twice
    assert out == [f"reasoning about {q}" for q in queries]
    records = _lines(cache)
    assert len(records) == 4 and len({r["key"] for r in records}) == 4


_CHILD = textwrap.dedent(
    """
    import sys
    from reasonembed.llm import LLMConfig
    from reasonembed.retrieval.rewrite import build_rewriter
    config = LLMConfig(backend="openai", model="scripted", base_urls=[sys.argv[1]], max_concurrency=1)
    build_rewriter(config, sys.argv[2]).rewrite([f"query number {i}" for i in range(8)])
    """
)


def test_sigkill_mid_run_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    queries = [f"query number {i}" for i in range(8)]
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion(f"reasoning about {post_of(body)}"),
                                                    delay_s=0.4)) as server:
        child = subprocess.Popen([sys.executable, "-c", _CHILD, server.base_url, str(tmp_path)], env=os.environ.copy())
        cache = tmp_path / "rewrite" / "rewrites.jsonl"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and child.poll() is None:
            if cache.exists() and cache.read_text(encoding="utf-8").count("\n") >= 2:
                break
            time.sleep(0.05)
        assert child.poll() is None, "the child finished before it could be killed"
        child.send_signal(signal.SIGKILL)
        child.wait()
        written = len(_lines(cache))
        assert 2 <= written < 8
        calls_before = server.calls
        out = QueryRewriter(openai_llm(server), tmp_path).rewrite(queries)
        assert server.calls - calls_before == 8 - written
    assert out == [f"reasoning about {q}" for q in queries]
    records = _lines(cache)
    assert len(records) == 8 and len({r["key"] for r in records}) == 8


def test_failures_fall_back_to_the_query_are_counted_and_retried_next_run(tmp_path: Path) -> None:
    def script(body, n):
        post = post_of(body)
        if "bad" in post:
            return Reply(400, {"error": "rejected"})
        if "think" in post:
            return Reply(body=completion("<think>only thoughts, never an answer</think>"))
        return Reply(body=completion(f"reasoning about {post}"))

    queries = ["a good query", "a bad query", "a think query"]
    with ScriptedOpenAIServer(script) as server:
        rewriter = QueryRewriter(openai_llm(server), tmp_path)
        out = rewriter.rewrite(queries)
        assert out == ["reasoning about a good query", "a bad query", "a think query"]
        assert rewriter.stats["failed"] == 1 and rewriter.stats["empty"] == 1 and rewriter.stats["generated"] == 1
        errors = {f["query"]: f["error"] for f in rewriter.failures}  # completion order: concurrent calls
        assert sorted(errors) == ["a bad query", "a think query"]
        assert errors["a bad query"].startswith("http 400") and errors["a think query"] == "empty answer"
        calls = server.calls
        QueryRewriter(openai_llm(server), tmp_path).rewrite(queries)
        assert server.calls == calls + 2  # failures are never cached; the good one is


def test_corrupt_cache_line_names_file_and_line(tmp_path: Path) -> None:
    cache = tmp_path / "rewrite" / "rewrites.jsonl"
    cache.parent.mkdir(parents=True)
    cache.write_text('{"key": "k1", "reasoning": "r"}\nnot json\n{"key": "k2", "reasoning": "r"}\n', encoding="utf-8")
    with ScriptedOpenAIServer(_echo) as server:
        with pytest.raises(RecordError, match=r"rewrites.jsonl, line 2"):
            QueryRewriter(openai_llm(server), tmp_path).rewrite(["q"])
    cache.write_text('{"reasoning": "no key"}\n', encoding="utf-8")
    with ScriptedOpenAIServer(_echo) as server:
        with pytest.raises(RecordError, match=r"line 1, field 'key'"):
            QueryRewriter(openai_llm(server), tmp_path).rewrite(["q"])


def test_a_cache_in_use_waits_for_the_holder_then_reuses_its_answers(tmp_path: Path) -> None:
    """Two processes on one cache (e.g. torchrun ranks running the same evaluation): the second
    waits for the first to finish, then finds its answers instead of asking the LLM again."""
    import threading

    with ScriptedOpenAIServer(_echo) as server:
        QueryRewriter(openai_llm(server), tmp_path).rewrite(["q"])
        holder = FolderLock(tmp_path / "rewrite", "rewrites cache").acquire()
        threading.Timer(1.0, holder.release).start()
        start = time.monotonic()
        assert QueryRewriter(openai_llm(server), tmp_path).rewrite(["q"]) == ["reasoning about q"]
        assert time.monotonic() - start >= 0.9 and server.calls == 1


def test_a_cache_in_use_past_the_lock_timeout_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    with FolderLock(tmp_path / "rewrite", "rewrites cache"), ScriptedOpenAIServer(_echo) as server:
        rewriter = QueryRewriter(openai_llm(server), tmp_path)
        rewriter.cache.lock_timeout_s = 0.3
        with pytest.raises(FolderLockedError, match=r"another process is writing this rewrites cache \(pid"):
            rewriter.rewrite(["q"])
        assert server.calls == 0


def test_rewriting_searcher_searches_the_rewritten_query_and_passes_excluded(tmp_path: Path) -> None:
    ids = ["d1", "d2", "d3", "d4"]
    texts = ["power rule derivative", "newton force mass", "photosynthesis light leaves", "binary search interval"]
    bm25 = BM25Searcher(ids, texts)

    def script(body, n):  # the "reasoning" names the physics the user did not write
        return Reply(body=completion("newton force mass power rule"))

    with ScriptedOpenAIServer(script) as server:
        searcher = RewritingSearcher(bm25, build_rewriter(openai_llm(server), tmp_path))
        out = searcher.batch_search(["why do things fall"], ["q1"], k=3, excluded={"q1": ["d2"]})
    expected = bm25.batch_search(["newton force mass power rule"], ["q1"], k=3, excluded={"q1": ["d2"]})
    assert out == expected
    assert out["q1"][0].docid == "d1" and "d2" not in {h.docid for h in out["q1"]}
    assert searcher.rewritten == {"q1": "newton force mass power rule"}


def test_build_rewriter_from_config(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(_echo) as server:
        config = LLMConfig(backend="openai", model="from-config", base_urls=[server.base_url])
        rewriter = build_rewriter(config, tmp_path)
        assert rewriter.rewrite(["q"]) == ["reasoning about q"]
    assert rewriter.describe()["model"] == "openai:from-config"
    assert rewriter.describe()["prompt_version"] == REASON_PROMPT_VERSION


def test_reasonings_say_which_queries_failed(tmp_path: Path) -> None:
    """ReMixer's q' needs to know a failure from an answer (it writes nothing for a failure)."""
    def script(body, n):
        return Reply(400, {"error": "no"}) if "bad" in post_of(body) else _echo(body, n)

    with ScriptedOpenAIServer(script) as server:
        rewriter = QueryRewriter(openai_llm(server), tmp_path)
        assert rewriter.reasonings(["good one", "bad one"]) == ["reasoning about good one", None]


def test_write_reason_variant_makes_a_query_variant_the_loader_reads(tmp_path: Path) -> None:
    from llm_searcher_helpers import tiny_task

    from reasonembed.evaluation.datasets import load_eval_dataset
    from reasonembed.retrieval.rewrite import write_reason_variant

    folder = tiny_task(tmp_path / "tiny")
    with ScriptedOpenAIServer(_echo) as server:
        rewriter = QueryRewriter(openai_llm(server), tmp_path / "cache")
        path = write_reason_variant(folder, rewriter, "scripted_reason")
    assert path == folder / "scripted_reason.jsonl"
    original = next(iter(load_eval_dataset(folder).tasks.values()))
    variant = next(iter(load_eval_dataset(folder, query_variant="scripted_reason").tasks.values()))
    assert variant.query_ids == original.query_ids and variant.qrels == original.qrels
    assert variant.excluded == original.excluded
    assert variant.query_texts == [f"reasoning about {q}" for q in original.query_texts]


def test_write_reason_variant_refuses_to_write_an_incomplete_variant(tmp_path: Path) -> None:
    from llm_searcher_helpers import tiny_task

    from reasonembed.errors import ReasonEmbedError
    from reasonembed.retrieval.rewrite import write_reason_variant

    folder = tiny_task(tmp_path / "tiny")

    def script(body, n):
        return Reply(400, {"error": "no"}) if "force" in post_of(body) else _echo(body, n)

    with ScriptedOpenAIServer(script) as server:
        with pytest.raises(ReasonEmbedError, match=r"examples.jsonl: 1 of 4 queries could not be rewritten"):
            write_reason_variant(folder, QueryRewriter(openai_llm(server), tmp_path / "cache"), "partial_reason")
    assert not (folder / "partial_reason.jsonl").exists()
    with pytest.raises(ReasonEmbedError, match="examples"):
        write_reason_variant(folder, QueryRewriter(openai_llm(server), tmp_path / "cache"), "examples")


def test_a_client_that_gives_up_raises_through_the_rewriter_and_keeps_the_answers(tmp_path: Path) -> None:
    """The client's loud failure (an endpoint failing every request) is not swallowed as a fallback."""
    import reasonembed.llm.base as llm_base

    unavailable = getattr(llm_base, "LLMUnavailableError", None)
    if unavailable is None:
        pytest.skip("this client has no consecutive-failure limit yet (the synth branch adds it)")

    def script(body, n):  # two answers, then the endpoint refuses everything
        return _echo(body, n) if n <= 2 else Reply(404, {"error": "no such model"})

    with ScriptedOpenAIServer(script) as server:
        rewriter = QueryRewriter(openai_llm(server, max_concurrency=1, max_consecutive_failures=3), tmp_path)
        with pytest.raises(unavailable):
            rewriter.rewrite([f"query {i}" for i in range(10)])
    assert len(_lines(tmp_path / "rewrite" / "rewrites.jsonl")) == 2
