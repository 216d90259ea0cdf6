"""LLMReranker / RerankingSearcher against the scripted OpenAI-compatible server (real HTTP)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llm_searcher_helpers import (
    IDS,
    QUERY,
    TEXT,
    Reply,
    ScriptedOpenAIServer,
    completion,
    is_followup,
    judged_pair,
    openai_llm,
)
from llm_searcher_helpers import first_stage as _inner
from llm_searcher_helpers import first_stage_order as _inner_order

from reasonembed.errors import ConfigError
from reasonembed.remixer.prompts import BRIGHT_DOMAINS, JUDGE_PROMPT_VERSION
from reasonembed.retrieval.rerank import LLMReranker, RerankingSearcher, build_reranker


def _judge(first: dict[str, str], followup: dict[str, str] | None = None, status: dict[str, int] | None = None):
    """A scripted judge: the reply for a pair is looked up by the document id whose text is in the prompt."""
    by_text = {t: i for i, t in TEXT.items()}

    def script(body, n):
        doc_id = by_text[judged_pair(body)[1].strip()]
        if status and doc_id in status:
            return Reply(status[doc_id], {"error": "rejected"})
        if is_followup(body):
            return Reply(body=completion((followup or {}).get(doc_id, "no idea")))
        return Reply(body=completion(first.get(doc_id, "Query Analysis: ... <score>1</score>")))

    return script


def _tag(score: int) -> str:
    return f"1. Query Analysis: x\n2. Document Analysis: y\n3. Relevance Annotation: z\n<score>{score}</score>"


def test_order_is_llm_score_then_inner_rank_and_the_rest_stays_below(tmp_path: Path) -> None:
    p = _inner_order()
    assert len(set(p)) == 6
    first = {p[0]: _tag(2), p[1]: _tag(5), p[2]: _tag(2), p[3]: _tag(5)}
    with ScriptedOpenAIServer(_judge(first)) as server:
        searcher = RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 4, TEXT)
        out = searcher.batch_search([QUERY], ["q"], k=6)["q"]
        assert server.calls == 4  # only the top `depth` are judged
        assert [h.docid for h in out] == [p[1], p[3], p[0], p[2], p[4], p[5]]
        scores = [h.score for h in out]
        assert all(a > b for a, b in zip(scores, scores[1:], strict=False))  # trec_eval reads the same order
        assert searcher.llm_scores["q"] == {p[0]: 2, p[1]: 5, p[2]: 2, p[3]: 5}
        top3 = searcher.batch_search([QUERY], ["q"], k=3)["q"]
        assert [h.docid for h in top3] == [p[1], p[3], p[0]]
        assert server.calls == 4  # cached


def test_unparsable_scores_are_counted_keep_their_slot_and_a_followup_can_rescue(tmp_path: Path) -> None:
    p = _inner_order()
    first = {p[0]: "It looks relevant to me.", p[1]: "Partly relevant, I would say.", p[2]: _tag(5), p[3]: _tag(1)}
    followup = {p[0]: "between 2 and 3", p[1]: "4"}
    with ScriptedOpenAIServer(_judge(first, followup)) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        out = RerankingSearcher(_inner(), reranker, 4, TEXT).batch_search([QUERY], ["q"], k=4)["q"]
        assert [h.docid for h in out] == [p[0], p[2], p[1], p[3]]
        assert server.calls == 6
        assert reranker.stats["unparsable"] == 1 and reranker.stats["status_followup"] == 1
        assert reranker.stats["status_ok"] == 2 and reranker.stats["followup_asked"] == 2
        again = LLMReranker(openai_llm(server), tmp_path)  # an unparsable answer is an answer: cached too
        RerankingSearcher(_inner(), again, 4, TEXT).batch_search([QUERY], ["q"], k=4)
        assert server.calls == 6 and again.stats["cached"] == 4
    records = [json.loads(x) for x in (tmp_path / "rerank" / "judgements.jsonl").read_text().splitlines()]
    assert {r["prompt_version"] for r in records} == {JUDGE_PROMPT_VERSION}
    assert sorted(r["score"] for r in records if r["score"] is not None) == [1, 4, 5]


def test_rounds_of_pairs_give_the_same_judgements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs are judged in rounds (first answers, then their follow-ups) to bound memory."""
    import reasonembed.retrieval.rerank as rerank

    monkeypatch.setattr(rerank, "CHUNK_PAIRS", 2)
    p = _inner_order()
    first = {p[0]: "no tag here", p[1]: _tag(2), p[2]: "none here either", p[3]: _tag(4), p[4]: _tag(5)}
    with ScriptedOpenAIServer(_judge(first, {p[0]: "3", p[2]: "<score>1</score>"})) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        searcher = RerankingSearcher(_inner(), reranker, 5, TEXT)
        out = searcher.batch_search([QUERY], ["q"], k=5)["q"]
        assert server.calls == 7
    assert searcher.llm_scores["q"] == {p[0]: 3, p[1]: 2, p[2]: 1, p[3]: 4, p[4]: 5}
    assert [h.docid for h in out] == [p[4], p[3], p[0], p[1], p[2]]


def test_cache_second_run_makes_zero_calls_and_changed_text_is_asked_again(tmp_path: Path) -> None:
    p = _inner_order()
    with ScriptedOpenAIServer(_judge({})) as server:
        RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 3, TEXT).batch_search([QUERY], ["q"], k=3)
        assert server.calls == 3
        RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 3, TEXT).batch_search([QUERY], ["q"], k=3)
        assert server.calls == 3
        changed = dict(TEXT)
        changed[p[1]] = TEXT[p[1]] + " "  # a new version of one document (the judge strips it)
        RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 3, changed).batch_search(
            [QUERY], ["q"], k=3)
        assert server.calls == 4


def test_a_failed_followup_is_counted_as_asked_and_failed(tmp_path: Path) -> None:
    p = _inner_order()
    by_text = {t: i for i, t in TEXT.items()}

    def script(body, n):  # no score in the first answer; the follow-up call is refused
        if is_followup(body):
            return Reply(400, {"error": "rejected"})
        assert by_text[judged_pair(body)[1].strip()] == p[0]
        return Reply(body=completion("no score here"))

    with ScriptedOpenAIServer(script) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        assert reranker.score_pairs([(QUERY, p[0], TEXT[p[0]])]) == [None]
        assert server.calls == 2
    assert reranker.stats["followup_asked"] == 1 and reranker.stats["llm_failed"] == 1


def test_llm_failures_keep_the_inner_slot_are_counted_and_not_cached(tmp_path: Path) -> None:
    p = _inner_order()
    first = {p[0]: _tag(1), p[1]: _tag(3), p[2]: _tag(5)}
    with ScriptedOpenAIServer(_judge(first, status={p[1]: 400})) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        out = RerankingSearcher(_inner(), reranker, 3, TEXT).batch_search([QUERY], ["q"], k=3)["q"]
        assert [h.docid for h in out] == [p[2], p[1], p[0]]
        assert reranker.stats["llm_failed"] == 1
        assert reranker.failures[0]["doc_id"] == p[1] and reranker.failures[0]["error"].startswith("http 400")
        calls = server.calls
        RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 3, TEXT).batch_search([QUERY], ["q"], k=3)
        assert server.calls == calls + 1


def test_excluded_ids_stay_excluded_and_are_never_judged(tmp_path: Path) -> None:
    p = _inner_order()
    first = {d: _tag(5) for d in IDS}
    with ScriptedOpenAIServer(_judge(first)) as server:
        searcher = RerankingSearcher(_inner(), LLMReranker(openai_llm(server), tmp_path), 6, TEXT)
        out = searcher.batch_search([QUERY], ["q"], k=6, excluded={"q": [p[0], "N/A"]})["q"]
        judged = {judged_pair(b)[1] for b in server.bodies}
    assert p[0] not in {h.docid for h in out} and len(out) == 5
    assert TEXT[p[0]] not in judged and len(judged) == 5


def test_search_one_query_and_missing_document_text(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(_judge({})) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        assert len(RerankingSearcher(_inner(), reranker, 2, TEXT).search(QUERY, k=3)) == 3
        partial = {d: t for d, t in TEXT.items() if d != _inner_order()[0]}
        with pytest.raises(ConfigError, match=_inner_order()[0]):
            RerankingSearcher(_inner(), reranker, 2, partial).batch_search([QUERY], ["q"], k=3)
    with pytest.raises(ValueError, match="depth"):
        RerankingSearcher(_inner(), reranker, 0, TEXT)
    with pytest.raises(ValueError, match="doc_texts"):
        RerankingSearcher(_inner(), reranker, 5)


def test_document_texts_can_come_from_a_lookup_function(tmp_path: Path) -> None:
    """An index hands out texts through a method (`IndexSearcher.document`), not a dict."""
    with ScriptedOpenAIServer(_judge({})) as server:
        reranker = LLMReranker(openai_llm(server), tmp_path)
        out = RerankingSearcher(_inner(), reranker, 2, TEXT.__getitem__).batch_search([QUERY], ["q"], k=3)["q"]
        assert len(out) == 3 and server.calls == 2
        missing = _inner_order()[0]

        def lookup(doc_id: str) -> str:
            if doc_id == missing:
                raise KeyError(doc_id)
            return TEXT[doc_id]

        with pytest.raises(ConfigError, match=missing):
            RerankingSearcher(_inner(), reranker, 2, lookup).batch_search([QUERY], ["q"], k=3)


def test_build_reranker_domains(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(_judge({})) as server:
        with pytest.raises(ConfigError, match="biology"):
            build_reranker(openai_llm(server), tmp_path, domain="no_such_domain")
        reranker = build_reranker(openai_llm(server), tmp_path, domain="biology")
        reranker.score_pairs([(QUERY, "d1", TEXT["d1"])])
        assert BRIGHT_DOMAINS["biology"].relevance_definition in server.bodies[-1]["messages"][0]["content"]
        generic = build_reranker(openai_llm(server), tmp_path)
        generic.score_pairs([(QUERY, "d1", TEXT["d1"])])
        assert server.calls == 2  # another domain definition is another prompt: not the biology answer
        assert "Relevance definition: The document is relevant if" in server.bodies[-1]["messages"][0]["content"]
        assert generic.describe()["domain"] == "generic"
