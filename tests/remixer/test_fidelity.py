"""Domain-filter replies are parsed, not guessed; empty replies are asked again; generated queries are
deduplicated; candidates come from the whole corpus; extra request fields reach the endpoint."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from openai_server import Reply, ScriptedOpenAIServer, completion
from synth_helpers import brain, make_doc, synth_overrides, write_corpus

from reasonembed.config import load_config
from reasonembed.io import read_jsonl
from reasonembed.llm import strip_think
from reasonembed.remixer.clean import parse_yes_no
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_stage


@pytest.mark.parametrize("reply, expected", [
    ("Yes", True), ("**Yes**", True), ("Answer: Yes", True), ("**Answer:** yes.", True), ("No.", False),
    ("Final answer: **No**", False), ("It clearly belongs, so yes", True), ("yes and no", None), ("", None),
    (strip_think("<think>The passage is about integrals, so the answer"), None), ("Maybe", None),
])
def test_parse_yes_no(reply, expected):
    assert parse_yes_no(reply) is expected


def _cfg(tmp_path, corpus, url, *extra):
    return load_config(SynthConfig, None, [*synth_overrides(corpus, tmp_path / "run", url), *extra])


def test_domain_filter_reads_markdown_and_labels_and_counts_the_unparsable(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 8)
    replies = ["**Yes**", "Answer: Yes", "<think>Let me look at this passage carefully", "No", "Yes.",
               "**Answer:** No", "yes", "I cannot tell"]

    def script(body, n):
        text = body["messages"][-1]["content"]
        i = next(i for i in range(8) if make_doc(i) in text)
        return Reply(body=completion(replies[i]))
    with ScriptedOpenAIServer(script) as server:
        cfg = _cfg(tmp_path, corpus, server.base_url, "clean.domain_filter=true")
        result = run_stage("clean", cfg)
        kept = [r["id"] for r in read_jsonl(result.output)]
    assert kept == ["d000", "d001", "d002", "d004", "d006", "d007"]  # a parsed No drops; unparsable is kept
    assert result.counts["dropped_domain_filter"] == 2 and result.counts["domain_filter_unparsable"] == 2
    decisions = {r["doc_id"]: r for r in read_jsonl(tmp_path / "run" / "clean" / "domain_filter.jsonl")}
    assert decisions["d002"]["parsed"] is None and decisions["d002"]["keep"] is True


def test_empty_generation_replies_are_asked_again(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 10)
    asked: Counter[str] = Counter()

    def script(body, n):
        prompt = body["messages"][-1]["content"]
        if "Write a NEW math problem" in prompt:
            asked[prompt] += 1
            if asked[prompt] == 1:
                return Reply(body=completion("<think>ran out of tokens while thinking"))  # empty answer
        return brain(body, n)
    with ScriptedOpenAIServer(script) as server:
        cfg = _cfg(tmp_path, corpus, server.base_url)
        run_stage("clean", cfg)
        result = run_stage("generate", cfg)
    assert result.counts["written"] == 10 and result.counts["empty_retried"] == 10
    assert not (tmp_path / "run" / "generate" / "rejected.jsonl").read_text()
    assert set(asked.values()) == {2}


def test_duplicate_generated_queries_are_rejected(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 10)
    same = "How does one compute the limit of a telescoping series whose terms shrink like one over n squared?"

    def script(body, n):
        if "Write a NEW math problem" in body["messages"][-1]["content"]:
            return Reply(body=completion(same))
        return brain(body, n)
    with ScriptedOpenAIServer(script) as server:
        cfg = _cfg(tmp_path, corpus, server.base_url)
        run_stage("clean", cfg)
        result = run_stage("generate", cfg)
    assert len(read_jsonl(tmp_path / "run" / "generate" / "queries.jsonl")) == 1
    assert result.counts["rejected_duplicate_query"] == 9
    reasons = {r["reason"] for r in read_jsonl(tmp_path / "run" / "generate" / "rejected.jsonl")}
    assert reasons == {"duplicate_query"}


def test_extra_request_fields_per_stage(tmp_path, minilm):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 6)
    with ScriptedOpenAIServer(brain) as server:
        cfg = _cfg(tmp_path, corpus, server.base_url, "mine.top_k=2",
                   "judge.extra_body={chat_template_kwargs: {enable_thinking: false}}")
        for stage in ("clean", "generate", "mine", "judge"):
            run_stage(stage, cfg, embedder=minilm)
        bodies = server.bodies
    judge = [b for b in bodies if "Relevance Annotation" in b["messages"][-1]["content"]]
    others = [b for b in bodies if "Write a NEW math problem" in b["messages"][-1]["content"]]
    assert judge and all(b["chat_template_kwargs"] == {"enable_thinking": False} for b in judge)
    assert others and not any("chat_template_kwargs" in b for b in others)


def test_candidates_come_from_the_whole_corpus_not_only_the_cleaned_one(tmp_path, minilm):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 12)
    near = make_doc(0).replace("Compute", "Find")  # near duplicate of d000: clean drops it
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "near-d000", "content": near}) + "\n")
    cfg = load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={tmp_path / 'run'}", "clean.min_chars=100",
                                          "mine.top_k=3", "mine.search_k=20"])
    run_stage("clean", cfg)
    assert "near-d000" not in {r["id"] for r in read_jsonl(tmp_path / "run" / "clean" / "corpus.jsonl")}
    qpath = tmp_path / "run" / "generate" / "queries.jsonl"
    qpath.parent.mkdir(parents=True)
    qpath.write_text(json.dumps({"id": "q0", "source_id": "d000", "domain": "theoremqa_questions", "instruction": "i",
                                 "query": make_doc(0)[:160], "conditions": {}, "provenance": {}}) + "\n")
    run_stage("mine", cfg, embedder=minilm)
    (record,) = read_jsonl(tmp_path / "run" / "mine" / "candidates.jsonl")
    ids = [c["doc_id"] for c in record["candidates"]]
    assert ids[0] == "near-d000" and "d000" not in ids  # the source is still removed
    clean_only = load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={tmp_path / 'run2'}",
                                                 "clean.min_chars=100", "mine.top_k=3", "mine.pool=clean"])
    run_stage("clean", clean_only)
    qpath2 = tmp_path / "run2" / "generate" / "queries.jsonl"
    qpath2.parent.mkdir(parents=True)
    qpath2.write_text(qpath.read_text())
    run_stage("mine", clean_only, embedder=minilm)
    assert "near-d000" not in [c["doc_id"] for c in read_jsonl(tmp_path / "run2" / "mine" / "candidates.jsonl")[0]["candidates"]]
