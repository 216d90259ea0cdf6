"""The judge's score follow-up, against a real local HTTP server with scripted replies.

One run dir with four candidates for one query: `d-ok` is scored in the first answer, `d-late`
only by the follow-up's tag, `d-number` by the follow-up's plain number, `d-never` in neither. The
script also checks the follow-up request itself; `parse_followup_score` is also tested on its own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openai_server import Reply, ScriptedOpenAIServer, completion

from reasonembed.config import load_config
from reasonembed.io import read_jsonl
from reasonembed.llm import build_llm
from reasonembed.records import Judgement, validate_record
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.judge import parse_followup_score, parse_score
from reasonembed.remixer.pipeline import run_stage
from reasonembed.remixer.prompts import JUDGE_PROMPT_VERSION, SCORE_FOLLOWUP

DOCS = {"d-ok": "Scored at once.", "d-late": "Scored after the follow-up.", "d-number": "Scored in plain words.",
        "d-never": "Never scored."}
FIRST = {"d-ok": "Analysis done. <score>5</score>", "d-late": "Long analysis that ran out of tokens",
         "d-number": "Score-less analysis, relevance 1 to 5 unclear", "d-never": "I refuse to give numbers."}
SECOND = {"d-late": "<score>4</score>", "d-number": "The relevant score is 2.",
          "d-never": "The document is about something."}


def _run_dir(root: Path) -> Path:
    for sub in ("clean", "generate", "mine"):
        (root / sub).mkdir(parents=True)
    with (root / "clean" / "corpus.jsonl").open("w") as fh:
        for doc_id, text in DOCS.items():
            fh.write(json.dumps({"id": doc_id, "text": text, "domain": "theoremqa_questions"}) + "\n")
    query = {"id": "q1", "source_id": "src", "domain": "theoremqa_questions", "instruction": "i",
             "query": "Which theorem bounds the sum?"}
    (root / "generate" / "queries.jsonl").write_text(json.dumps(query) + "\n")
    cands = {"query_id": "q1", "candidates": [{"doc_id": d, "score": 1.0 - i / 10} for i, d in enumerate(DOCS)]}
    (root / "mine" / "candidates.jsonl").write_text(json.dumps(cands) + "\n")
    return root


def _doc_of(messages: list[dict]) -> str:
    return next(d for d, text in DOCS.items() if text in messages[0]["content"])


def _script(body: dict, n: int) -> Reply:
    messages = body["messages"]
    doc = _doc_of(messages)
    if messages[-1]["content"] != SCORE_FOLLOWUP:
        return Reply(body=completion(FIRST[doc]))
    return Reply(body=completion(SECOND[doc]))


def _config(run_dir: Path, url: str, *extra: str) -> SynthConfig:
    return load_config(SynthConfig, None, [f"run_dir={run_dir}", "llm.backend=openai", "llm.model=scripted",
                                           f"llm.base_urls=[{url}]", "llm.backoff_base_s=0.01", *extra])


def test_followup_scores_or_nulls_and_request_shape(tmp_path):
    run_dir = _run_dir(tmp_path / "run")
    with ScriptedOpenAIServer(_script) as server:
        result = run_stage("judge", _config(run_dir, server.base_url))
        bodies = list(server.bodies)
    by_doc = {j["doc_id"]: j for j in read_jsonl(run_dir / "judge" / "judgements.jsonl")}
    for j in by_doc.values():
        validate_record(j, Judgement)
        assert j["provenance"]["prompt_version"] == JUDGE_PROMPT_VERSION
    assert (by_doc["d-ok"]["score"], by_doc["d-ok"]["status"]) == (5, "ok") and "followup" not in by_doc["d-ok"]
    late = by_doc["d-late"]
    assert (late["score"], late["status"]) == (4, "followup")
    assert late["rationale"] == FIRST["d-late"] and late["followup"] == SECOND["d-late"]
    assert late["provenance"]["followup"]["sampling"]["max_tokens"] == 16
    assert late["followup_parse"] == "tag"
    number = by_doc["d-number"]
    assert (number["score"], number["status"], number["followup_parse"]) == (2, "followup", "number")
    assert number["rationale"] == FIRST["d-number"] and number["followup"] == SECOND["d-number"]
    never = by_doc["d-never"]
    assert (never["score"], never["status"]) == (None, "unparsable") and "followup_parse" not in never
    assert never["rationale"] == FIRST["d-never"] and never["followup"] == SECOND["d-never"]
    assert "followup_parse" not in by_doc["d-ok"]
    assert result.counts["followup_asked"] == 3 and result.counts["followup_scored"] == 2
    assert result.counts["followup_parse_tag"] == 1 and result.counts["followup_parse_number"] == 1
    assert result.counts["unparsable"] == 1 and result.counts["written"] == 4
    # the follow-up repeats the conversation, adds the model's own answer and the short score request
    followups = [b for b in bodies if b["messages"][-1]["content"] == SCORE_FOLLOWUP]
    assert len(bodies) == 7 and len(followups) == 3
    for body in followups:
        first = next(b for b in bodies if b["messages"] == body["messages"][:1])
        doc = _doc_of(body["messages"])
        assert body["messages"][1] == {"role": "assistant", "content": FIRST[doc]}
        assert body["max_tokens"] == 16 and first["max_tokens"] == 2048


def test_followup_disabled_records_null_without_asking(tmp_path):
    run_dir = _run_dir(tmp_path / "run")
    with ScriptedOpenAIServer(_script) as server:
        result = run_stage("judge", _config(run_dir, server.base_url, "judge.score_followup=false"))
        assert server.calls == 4
    status = {j["doc_id"]: (j["score"], j["status"]) for j in read_jsonl(run_dir / "judge" / "judgements.jsonl")}
    assert status == {"d-ok": (5, "ok"), "d-late": (None, "unparsable"), "d-number": (None, "unparsable"),
                      "d-never": (None, "unparsable")}
    assert result.counts.get("followup_asked", 0) == 0


def test_failed_followup_writes_nothing_and_the_pair_is_asked_again(tmp_path):
    run_dir = _run_dir(tmp_path / "run")
    down = {"on": True}

    def script(body: dict, n: int) -> Reply:
        if down["on"] and body["messages"][-1]["content"] == SCORE_FOLLOWUP:
            return Reply(503, "overloaded")
        return _script(body, n)

    with ScriptedOpenAIServer(script) as server:
        cfg = _config(run_dir, server.base_url, "llm.max_retries=1")
        llm = build_llm(cfg.llm)
        first = run_stage("judge", cfg, llm=llm)
        assert first.counts["llm_failed"] == 3 and first.counts["written"] == 1  # only d-ok is final
        assert [j["doc_id"] for j in read_jsonl(run_dir / "judge" / "judgements.jsonl")] == ["d-ok"]
        down["on"] = False
        second = run_stage("judge", cfg, llm=llm)
    assert second.counts["skipped_done"] == 1 and second.counts["written"] == 3
    status = {j["doc_id"]: j["status"] for j in read_jsonl(run_dir / "judge" / "judgements.jsonl")}
    assert status == {"d-ok": "ok", "d-late": "followup", "d-number": "followup", "d-never": "unparsable"}


@pytest.mark.parametrize(("reply", "expected"), [
    ("The relevant score is 1.", (1, "number")),
    ("4", (4, "number")),
    ("Score: 4", (4, "number")),
    ("between 2 and 3", (None, None)),
    ("score 7", (None, None)),
    ("no idea", (None, None)),
    ("", (None, None)),
    ("<score>3</score>", (3, "tag")),
    ("<score>3</score> though 5 is possible", (3, "tag")),
    ("<score>7</score>", (None, None)),
    ("3.5", (None, None)),
    ("4/5", (None, None)),
    ("4 out of 5", (None, None)),
    ("-2", (None, None)),
    ("score 03", (None, None)),
    ("The H2O document", (None, None)),
    ("1. Query Analysis: the query asks", (None, None)),
])
def test_parse_followup_score(reply, expected):
    assert parse_followup_score(reply) == expected


def test_first_answer_still_needs_the_tag():
    assert parse_score("The relevant score is 1.") is None and parse_score("4") is None
