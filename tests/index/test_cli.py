"""`reasonembed index` and `reasonembed search` end to end, as the docs show them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reasonembed.cli import app
from reasonembed.index import IndexMismatchError


def test_index_then_search_then_extend(tmp_path, write_corpus, theoremqa_docs, minilm_path, tiny_qwen3_path) -> None:
    runner = CliRunner()
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:20])
    out = tmp_path / "idx"
    result = runner.invoke(app, ["index", "--corpus", str(corpus), "--out", str(out), "--bm25", "--kind", "hnsw"])
    assert result.exit_code == 0, result.output
    assert "20 documents (20 added, 0 already there), hnsw index, recall@10 vs exact" in result.output

    doc = theoremqa_docs[4]
    result = runner.invoke(app, ["search", "--index", str(out), "-k", "2", "--json", doc["content"]])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2] and rows[0]["id"] == doc["id"] and rows[0]["text"] == doc["content"]

    result = runner.invoke(app, ["search", "--index", str(out), "-k", "3", "--hybrid", doc["content"]])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split()[2] == doc["id"]

    more = write_corpus(tmp_path / "more.jsonl", theoremqa_docs[18:25])
    result = runner.invoke(app, ["index", "--corpus", str(more), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "25 documents (5 added, 2 already there), hnsw index" in result.output

    result = runner.invoke(app, ["search", "--index", str(out), "--model", tiny_qwen3_path, "anything"])
    assert isinstance(result.exception, IndexMismatchError)


@pytest.mark.parametrize("bad", ["", "   "])
def test_empty_query_is_refused(tmp_path, bad) -> None:
    result = CliRunner().invoke(app, ["search", "--index", str(tmp_path), bad])
    assert result.exception is not None and "the query is empty" in str(result.exception)


def test_lone_surrogate_in_corpus_is_an_error_line(tmp_path) -> None:
    """`"x \\ud800"` is legal JSON but not text: the CLI names file, line and field, no traceback."""
    import subprocess
    import sys

    corpus = tmp_path / "docs.jsonl"
    corpus.write_text('{"id": "a", "text": "fine"}\n{"id": "b", "text": "x \\ud800"}\n', encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "reasonembed.cli", "index", "--corpus", str(corpus), "--out",
                             str(tmp_path / "idx")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert "docs.jsonl, line 2, field 'text': contains a lone UTF-16 surrogate" in result.stderr
    assert not (tmp_path / "idx" / "shards").exists()


def test_bad_fusion_is_an_error_line_before_anything_loads(tmp_path) -> None:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "reasonembed.cli", "search", "--index", str(tmp_path), "--hybrid",
                             "--fusion", "bogus", "q"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "fusion 'bogus' is not one of rrf, score" in result.stderr


def test_search_rerank_and_rewrite_through_the_llm_options(tmp_path, write_corpus, theoremqa_docs) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retrieval"))
    from llm_searcher_helpers import ScriptedOpenAIServer, judge_and_rewrite

    runner = CliRunner()
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:20])
    out = tmp_path / "idx"
    assert runner.invoke(app, ["index", "--corpus", str(corpus), "--out", str(out)]).exit_code == 0
    query = theoremqa_docs[4]["content"]
    plain = runner.invoke(app, ["search", "--index", str(out), "-k", "5", "--json", query])
    ranked = [json.loads(line)["id"] for line in plain.stdout.splitlines()]
    text_of = {d["content"]: d["id"] for d in theoremqa_docs[:20]}
    liked = ranked[2]
    seen: list[str] = []

    def likes(q: str, doc: str) -> int:  # the judge likes the dense third hit; a rewrite keeps the query's words
        seen.append(q)
        return 5 if text_of[doc] == liked else 1

    with ScriptedOpenAIServer(judge_and_rewrite(likes)) as server:
        args = ["search", "--index", str(out), "-k", "5", "--json", "--rewrite", "--rerank", "5",
                "--llm", "backend=openai", "--llm", "model=scripted", "--llm", f"base_urls=[{server.base_url}]",
                "--llm-cache", str(tmp_path / "cache"), query]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    reranked = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert reranked[0] == liked and sorted(reranked) == sorted(ranked)
    assert seen and set(seen) == {query}  # the judge reads the user's query, not the rewrite
