"""Shared pieces of the LLM rewrite/rerank tests: the scripted OpenAI-compatible server (from
tests/llm, used through its public API), a client pointed at it, readers of the prompts the server
receives, a judge-and-rewrite script for it, and the tiny BRIGHT-layout task of
tests/evaluation/conftest.py."""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

_TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_TESTS / "llm"))

from openai_server import Reply, ScriptedOpenAIServer, completion  # noqa: E402

from reasonembed.llm import LLM, LLMConfig, build_llm  # noqa: E402

__all__ = ["Reply", "ScriptedOpenAIServer", "completion", "openai_llm", "post_of", "judged_pair", "judge_and_rewrite",
           "tiny_task", "load_tiny_task", "IDS", "TEXTS", "TEXT", "QUERY", "first_stage", "first_stage_order"]

# A six-document corpus whose BM25 order for QUERY is d1 > d2 > ... (the rerank tests reorder it).
IDS = ["d1", "d2", "d3", "d4", "d5", "d6"]
TEXTS = [
    "graph graph graph graph search",
    "graph graph graph search tree",
    "graph graph search tree heap",
    "graph search tree heap sort",
    "search tree heap sort merge",
    "tree heap sort merge list",
]
TEXT = dict(zip(IDS, TEXTS, strict=True))
QUERY = "graph search"


def first_stage() -> Any:
    from reasonembed.retrieval.bm25 import BM25Searcher

    return BM25Searcher(IDS, TEXTS)


def first_stage_order(k: int = 6, excluded: Any = None) -> list[str]:
    return [h.docid for h in first_stage().batch_search([QUERY], ["q"], k, excluded)["q"]]


def openai_llm(server: ScriptedOpenAIServer, model: str = "scripted", **kw: Any) -> LLM:
    """The project's real client, pointed at the scripted server, with fast retries."""
    config = LLMConfig(backend="openai", model=model, base_urls=[server.base_url], backoff_base_s=0.01,
                       backoff_max_s=0.02, timeout_s=kw.pop("timeout_s", 10.0), max_retries=kw.pop("max_retries", 1),
                       **kw)
    return build_llm(config)


def last_user(body: dict[str, Any]) -> str:
    return [m["content"] for m in body["messages"] if m["role"] == "user"][-1]


def post_of(body: dict[str, Any]) -> str:
    """The query text inside a BRIGHT reason prompt (everything before the instructions)."""
    return last_user(body).split("\nInstructions:", 1)[0]


def judged_pair(body: dict[str, Any]) -> tuple[str, str]:
    """(query, document) inside a judge prompt (the first user turn, also in a follow-up)."""
    first = [m["content"] for m in body["messages"] if m["role"] == "user"][0]
    query = re.search(r"\[Begin of Query\]\n(.*?)\n\[End of Query\]", first, re.DOTALL)
    doc = re.search(r"\[Begin of Document\]\n(.*?)\n\[End of Document\]", first, re.DOTALL)
    assert query and doc, first
    return query.group(1), doc.group(1)


def judge_and_rewrite(score: Callable[[str, str], int], rewrite: Callable[[str], str] = str) -> Callable[..., Reply]:
    """A ScriptedOpenAIServer script: a judge prompt is answered `<score>score(query, document)</score>`,
    a reason (rewrite) prompt `rewrite(query)` (default: the query itself)."""

    def script(body: dict[str, Any], n: int) -> Reply:
        if "[Begin of Query]" in body["messages"][0]["content"]:
            return Reply(body=completion(f"<score>{score(*judged_pair(body))}</score>"))
        return Reply(body=completion(rewrite(post_of(body))))

    return script


def is_followup(body: dict[str, Any]) -> bool:
    return any(m["role"] == "assistant" for m in body["messages"])


def tiny_task(folder: Path) -> Path:
    """The 10-document, 4-query BRIGHT-layout task of tests/evaluation/conftest.py, written to `folder`."""
    spec = importlib.util.spec_from_file_location("evaluation_fixtures", _TESTS / "evaluation" / "conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.make_task(folder)


def load_tiny_task(folder: Path) -> Any:
    """The tiny task written to `folder` and loaded: its EvalTask."""
    from reasonembed.evaluation.datasets import load_eval_dataset

    return next(iter(load_eval_dataset(tiny_task(folder)).tasks.values()))
