"""The LLM options shared by `reasonembed eval` and `reasonembed search`: query rewriting (BRIGHT's
reasoning queries) and LLM reranking of the top hits, both through the project's LLM client.

    --rewrite                      search with an LLM's reasoning about each query in its place
    --rerank N                     rerank each query's top N with ReMixer's three-step judge
    --llm-config FILE --llm k=v    the LLM (an LLMConfig YAML plus overrides; default: bundled SmolLM2)
    --llm-cache DIR                answers are cached there (a second run makes no LLM call)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

REWRITE_OPT = typer.Option(
    False, "--rewrite", help="Search with an LLM's reasoning in place of each query (BRIGHT's reason prompt; cached)."
)
RERANK_OPT = typer.Option(0, "--rerank", min=0, help="LLM-rerank each query's top N with ReMixer's judge (0: off; cached).")
RERANK_DOMAIN_OPT = typer.Option(
    None, "--rerank-domain", help="Relevance definition: a BRIGHT task name, 'per-task' (BRIGHT tasks), or unset (generic)."
)
LLM_CONFIG_OPT = typer.Option(None, "--llm-config", help="LLMConfig YAML for --rewrite/--rerank (default: bundled SmolLM2).")
LLM_SET_OPT = typer.Option(
    None, "--llm", help="LLMConfig override key=value, repeatable: --llm backend=openai --llm model=Qwen3-8B."
)
LLM_CACHE_OPT = typer.Option(None, "--llm-cache", help="Cache folder of LLM answers for --rewrite/--rerank.")
SEARCH_LLM_CACHE = Path("~/.cache/reasonembed/llm-tools")  # `search`'s default (an index may be read-only)


def build_llm_from_options(llm_config: Path | None, llm_set: list[str] | None) -> Any:
    from reasonembed.config import load_config
    from reasonembed.llm import LLMConfig, build_llm

    return build_llm(load_config(LLMConfig, llm_config, list(llm_set or [])))


def rerank_domain(value: str | None) -> str | None:
    from reasonembed.retrieval.rerank import PER_TASK

    return PER_TASK if value == "per-task" else value


def eval_wrappers(rewrite: bool, rerank: int, domain: str | None, llm_config: Path | None,
                  llm_set: list[str] | None, cache: Path) -> list[Any]:
    """Per-task searcher wrappers for `evaluate`, innermost first: rewrite, then rerank."""
    if not (rewrite or rerank):
        return []
    from reasonembed.retrieval.rerank import RerankWrapper
    from reasonembed.retrieval.rewrite import RewriteWrapper, build_rewriter

    llm = build_llm_from_options(llm_config, llm_set)
    wrappers: list[Any] = []
    if rewrite:
        wrappers.append(RewriteWrapper(build_rewriter(llm, cache)))
    if rerank:
        wrappers.append(RerankWrapper(llm, cache, depth=rerank, domain=rerank_domain(domain)))
    return wrappers


def wrap_searcher(searcher: Any, doc_text: Any, rewrite: bool, rerank: int, domain: str | None,
                  llm_config: Path | None, llm_set: list[str] | None, cache: Path) -> Any:
    """One searcher with query rewriting and/or LLM reranking on top (for `reasonembed search`)."""
    if not (rewrite or rerank):
        return searcher
    from reasonembed.errors import ConfigError
    from reasonembed.retrieval.rerank import RerankingSearcher, build_reranker
    from reasonembed.retrieval.rewrite import RewritingSearcher, build_rewriter

    if domain == "per-task":
        raise ConfigError("--rerank-domain per-task needs tasks (reasonembed eval); give a BRIGHT task name here")
    llm = build_llm_from_options(llm_config, llm_set)
    cache = cache.expanduser()
    if rewrite:
        searcher = RewritingSearcher(searcher, build_rewriter(llm, cache))
    if rerank:
        searcher = RerankingSearcher(searcher, build_reranker(llm, cache, domain), rerank, doc_text)
    return searcher
