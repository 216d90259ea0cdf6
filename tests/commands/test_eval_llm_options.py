"""`reasonembed eval --rewrite --rerank N --llm ...`: the LLM wrappers reach the run, are recorded in
the manifest, and a second run is answered from the cache (no LLM call)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "retrieval"))

from llm_searcher_helpers import ScriptedOpenAIServer, judge_and_rewrite, tiny_task  # noqa: E402

from reasonembed.cli import app  # noqa: E402


def test_eval_rewrite_and_rerank_through_the_cli(tmp_path: Path) -> None:
    folder = tiny_task(tmp_path / "tiny")
    examples = [json.loads(line) for line in (folder / "examples.jsonl").read_text().splitlines() if line.strip()]
    qid_of = {e["query"]: e["id"] for e in examples}
    favourite: dict[str, str] = {}  # per query id: the document the judge likes (BM25's third hit)
    docs = {json.loads(line)["content"]: json.loads(line)["id"]
            for line in (folder / "documents.jsonl").read_text().splitlines() if line.strip()}

    # the judge likes one document per query; rewrites echo the query
    script = judge_and_rewrite(lambda query, doc: 5 if docs[doc] == favourite[qid_of[query]] else 1)

    def trec(folder: Path) -> dict[str, list[str]]:
        ranked: dict[str, list[str]] = {}
        for line in next((folder / "runs").glob("*.trec")).read_text().splitlines():
            qid, _, doc, *_ = line.split()
            ranked.setdefault(qid, []).append(doc)
        return ranked

    base = CliRunner().invoke(app, ["eval", "--model", "bm25", "--dataset", str(folder), "--out", str(tmp_path / "base")])
    assert base.exit_code == 0, base.output
    plain = trec(tmp_path / "base")
    favourite.update({qid: ranked[2] for qid, ranked in plain.items()})
    out, cache = tmp_path / "out", tmp_path / "llm-cache"
    with ScriptedOpenAIServer(script) as server:
        args = ["eval", "--model", "bm25", "--dataset", str(folder), "--rewrite", "--rerank", "10",
                "--llm", "backend=openai", "--llm", "model=scripted", "--llm", f"base_urls=[{server.base_url}]",
                "--llm", "max_retries=1", "--llm", "backoff_base_s=0.01", "--llm-cache", str(cache)]
        result = CliRunner().invoke(app, [*args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        calls = server.calls
        assert calls >= len(examples) * 2  # at least one rewrite and one judgement per query
        again = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "again")])
        assert again.exit_code == 0, again.output
        assert server.calls == calls  # the second run is answered from the cache
    wrappers = json.loads((out / "results.json").read_text())["manifest"]["model"]["wrappers"]
    assert [next(iter(w)) for w in wrappers] == ["rewrite", "rerank"]
    assert wrappers[1]["rerank"]["depth"] == 10
    reranked = trec(out)
    assert {qid: ranked[0] for qid, ranked in reranked.items()} == favourite  # the judge's choice leads
    for qid, ranked in reranked.items():  # the rest keep BM25's order
        assert ranked[1:] == [d for d in plain[qid] if d != favourite[qid]]
