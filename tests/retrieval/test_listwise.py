"""Listwise (sliding-window) LLM reranking against the scripted OpenAI-compatible server."""

from __future__ import annotations

import re
from pathlib import Path

from llm_searcher_helpers import QUERY, TEXT, Reply, ScriptedOpenAIServer, completion, openai_llm
from llm_searcher_helpers import first_stage as _inner
from llm_searcher_helpers import first_stage_order as _order

from reasonembed.retrieval.listwise import ListwiseReranker, ListwiseRerankingSearcher, parse_permutation


def _reverse(body, n):
    """Rank the window in reverse of how it was shown."""
    count = len(re.findall(r"^\[(\d+)\] ", body["messages"][-1]["content"], re.MULTILINE))
    return Reply(body=completion(" > ".join(f"[{i}]" for i in range(count, 0, -1))))


def test_parse_permutation() -> None:
    assert parse_permutation("[2] > [1] > [3]", 3) == [1, 0, 2]
    assert parse_permutation("Ranking: [2] > [2] > [7] > [3]", 3) == [1, 2, 0]  # repeats, out of range dropped
    assert parse_permutation("I cannot rank these.", 3) is None


def test_sliding_windows_from_the_bottom_up_then_the_rest_below_and_cached(tmp_path: Path) -> None:
    p = _order()
    with ScriptedOpenAIServer(_reverse) as server:
        reranker = ListwiseReranker(openai_llm(server), tmp_path, window=3, step=2)
        searcher = ListwiseRerankingSearcher(_inner(), reranker, 5, TEXT)
        out = searcher.batch_search([QUERY], ["q"], k=6)["q"]
        assert server.calls == 2
        # window [p2 p3 p4] reversed -> p0 p1 p4 p3 p2; then window [p0 p1 p4] reversed
        assert [h.docid for h in out] == [p[4], p[1], p[0], p[3], p[2], p[5]]
        scores = [h.score for h in out]
        assert all(a > b for a, b in zip(scores, scores[1:], strict=False))
        again = ListwiseRerankingSearcher(_inner(), ListwiseReranker(openai_llm(server), tmp_path, window=3, step=2),
                                          5, TEXT).batch_search([QUERY], ["q"], k=6)["q"]
        assert again == out and server.calls == 2


def test_unparsable_windows_keep_their_order_and_are_counted(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("They all look relevant."))) as server:
        reranker = ListwiseReranker(openai_llm(server), tmp_path, window=4, step=2)
        out = ListwiseRerankingSearcher(_inner(), reranker, 6, TEXT).batch_search([QUERY], ["q"], k=6)["q"]
    assert [h.docid for h in out] == _order()
    assert reranker.stats["unparsable"] == 2 and reranker.stats["windows"] == 2


def test_excluded_ids_stay_excluded_and_are_never_shown(tmp_path: Path) -> None:
    p = _order()
    with ScriptedOpenAIServer(_reverse) as server:
        searcher = ListwiseRerankingSearcher(_inner(), ListwiseReranker(openai_llm(server), tmp_path), 6, TEXT)
        out = searcher.batch_search([QUERY], ["q"], k=6, excluded={"q": [p[0]]})["q"]
        shown = " ".join(b["messages"][-1]["content"] for b in server.bodies)
    assert p[0] not in {h.docid for h in out} and len(out) == 5
    assert TEXT[p[0]] not in shown


def test_failed_calls_leave_the_window_are_counted_and_asked_again(tmp_path: Path) -> None:
    with ScriptedOpenAIServer(lambda body, n: Reply(400, {"error": "too long"})) as server:
        reranker = ListwiseReranker(openai_llm(server), tmp_path, window=6)
        out = ListwiseRerankingSearcher(_inner(), reranker, 6, TEXT).batch_search([QUERY], ["q"], k=6)["q"]
        assert [h.docid for h in out] == _order() and server.calls == 1
        assert reranker.stats["llm_failed"] == 1 and reranker.failures[0]["error"].startswith("http 400")
        ListwiseRerankingSearcher(_inner(), ListwiseReranker(openai_llm(server), tmp_path, window=6), 6,
                                  TEXT).batch_search([QUERY], ["q"], k=6)
        assert server.calls == 2
