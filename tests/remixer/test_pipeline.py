"""End to end against a scripted OpenAI-compatible server, with the real bundled MiniLM for mining."""

from __future__ import annotations

from synth_helpers import mine_own_queries, synth_overrides

from reasonembed.config import load_config
from reasonembed.io import read_jsonl
from reasonembed.records import Candidates, Judgement, Query, TrainingSample, validate_record
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_pipeline, run_stage
from reasonembed.remixer.stats import compute_stats


def test_source_document_never_among_candidates(tmp_path, corpus, minilm):
    # queries that ARE their source document: the source would be every query's top hit if not removed
    docs = mine_own_queries(corpus, tmp_path / "run", minilm, lambda d: d["text"][:150])
    records = read_jsonl(tmp_path / "run" / "mine" / "candidates.jsonl")
    assert len(records) == len(docs)
    for rec in records:
        validate_record(rec, Candidates)
        ids = [c["doc_id"] for c in rec["candidates"]]
        assert len(ids) == 5 and rec["query_id"][2:] not in ids
        assert [c["score"] for c in rec["candidates"]] == sorted((c["score"] for c in rec["candidates"]), reverse=True)
    # the query text is so close to its source that the unfiltered search ranks the source first
    import numpy as np

    vec_q = minilm.encode_queries([docs[0]["text"][:150]])
    vec_d = minilm.encode_documents([d["text"] for d in docs])
    assert int(np.argmax(vec_d @ vec_q[0])) == 0


def test_full_pipeline_with_scripted_llm(tmp_path, corpus, llm_server, minilm):
    run_dir = tmp_path / "run"
    cfg = load_config(SynthConfig, None, synth_overrides(corpus, run_dir, llm_server.base_url))
    outcomes = run_pipeline(cfg, embedder=minilm)
    assert list(outcomes) == ["clean", "generate", "mine", "judge", "reason", "assemble"]
    counts = {name: o.summary["counts"] for name, o in outcomes.items()}
    queries = read_jsonl(run_dir / "generate" / "queries.jsonl")
    assert len(queries) == 40
    for q in queries:
        validate_record(q, Query)
        assert not q["query"].startswith('"')  # quotes stripped
        assert q["provenance"]["model"] == "scripted" and q["provenance"]["prompt_version"]
        assert set(q["conditions"]) == {"length", "education"}
    judgements = read_jsonl(run_dir / "judge" / "judgements.jsonl")
    assert len(judgements) == 40 * 5
    for j in judgements:
        validate_record(j, Judgement)
    nulls = [j for j in judgements if j["score"] is None]
    assert nulls and all(j["status"] == "unparsable" for j in nulls)  # score-less twice: null, not guessed
    assert counts["judge"]["unparsable"] == len(nulls)
    followed = [j for j in judgements if j["status"] == "followup"]
    assert followed and all(j["score"] is not None and j["followup"].startswith("<score>") for j in followed)
    assert all("will not give a number" in j["rationale"] for j in followed + nulls)  # first answer kept
    assert counts["judge"]["followup_asked"] == len(followed) + len(nulls)
    assert counts["judge"]["followup_scored"] == len(followed)
    samples = read_jsonl(run_dir / "assemble" / "train.jsonl")
    assert samples
    by_pair = {(j["query_id"], j["doc_id"]): j["score"] for j in judgements}
    source_of = {q["id"]: q["source_id"] for q in queries}
    for s in samples:
        validate_record(s, TrainingSample)
        assert s["reasoning_query"].startswith(s["query"]) and "<think>" not in s["reasoning_query"]
        assert all(by_pair[(s["query_id"], d)] >= 3 for d in s["pos_ids"])
        assert all(by_pair[(s["query_id"], d)] <= 2 for d in s["neg_ids"])
        assert source_of[s["query_id"]] not in s["pos_ids"] + s["neg_ids"]
        assert s["prompt"].startswith("Given a Math problem")
    # q' comes from BRIGHT's reasoning prompt, the one `--rewrite` uses at search time
    from reasonembed.remixer.prompts import REASON_PROMPT_VERSION, reason_messages

    sent = [b["messages"] for b in llm_server.bodies if "Identify the essential problem" in b["messages"][-1]["content"]]
    assert sorted(map(str, sent)) == sorted(str(reason_messages(q["query"])) for q in queries)
    reasonings = read_jsonl(run_dir / "reason" / "reasoning.jsonl")
    assert {r["provenance"]["prompt_version"] for r in reasonings} == {REASON_PROMPT_VERSION}
    stats = compute_stats(cfg)
    assert stats["records"]["samples"] == len(samples)
    assert sum(stats["judge_scores"].values()) == 200 and stats["judge_scores"]["null"] == len(nulls)
    assert stats["judge_status"] == {"ok": 200 - len(followed) - len(nulls), "followup": len(followed),
                                     "unparsable": len(nulls)}
    assert stats["llm"]["total"]["calls"] == 40 + 200 + len(followed) + len(nulls) + 40
    assert (run_dir / "stats" / "judge_scores.png").stat().st_size > 1000
    # a second run with the same config reuses everything: no new LLM calls, identical outputs
    calls = llm_server.calls
    before = {p: p.read_bytes() for p in run_dir.glob("*/*.jsonl")}
    again = run_pipeline(cfg, embedder=minilm)
    assert llm_server.calls == calls
    assert all(o.reused for o in again.values())
    assert {p: p.read_bytes() for p in run_dir.glob("*/*.jsonl")} == before


def test_failed_llm_calls_write_nothing_and_are_retried_next_run(tmp_path, corpus, minilm):
    import pytest
    from openai_server import Reply, ScriptedOpenAIServer
    from synth_helpers import brain

    from reasonembed.llm.base import LLMUnavailableError

    down = {"on": True}
    def script(body, n):
        return Reply(503, "overloaded") if down["on"] else brain(body, n)
    with ScriptedOpenAIServer(script) as server:
        cfg = load_config(SynthConfig, None, synth_overrides(corpus, tmp_path / "run", server.base_url) + ["llm.max_retries=1"])
        run_stage("clean", cfg)
        from reasonembed.llm import build_llm

        llm = build_llm(cfg.llm)
        with pytest.raises(LLMUnavailableError, match="generate: all 40 LLM requests failed"):
            run_stage("generate", cfg, llm=llm)  # every call failed: loud, and nothing written
        assert not (tmp_path / "run" / "generate" / "queries.jsonl").read_text()
        down["on"] = False
        second = run_stage("generate", cfg, llm=llm)
        assert second.counts["written"] == 40
    acc = read_jsonl(tmp_path / "run" / "llm_accounting.jsonl")
    assert [a["failed"] for a in acc] == [40, 0] and acc[0]["retries"] == 40
