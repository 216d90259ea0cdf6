"""The LLM options shared by `reasonembed eval` and `reasonembed search`: query rewriting (BRIGHT's
reasoning queries) and LLM reranking of the top hits, both through the project's LLM client.

    --rewrite                      search with an LLM's reasoning about each query in its place
    --rerank N                     rerank each query's top N with ReMixer's three-step judge
    --llm-config FILE --llm k=v    the LLM (an LLMConfig YAML plus overrides; default: bundled SmolLM2)
    --llm-cache DIR                answers are cached there (a second run makes no LLM call)

A command declares them once, with `@with_llm_options`, and gets them as one `llm: LLMOptions`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import typer

SEARCH_LLM_CACHE = Path("~/.cache/reasonembed/llm-tools")  # `search`'s default (an index may be read-only)


@dataclass
class LLMOptions:
    """What one call of a command was given of the LLM options (the field names are its parameters)."""

    rewrite: bool = False
    rerank: int = 0
    rerank_domain: str | None = None
    llm_config: Path | None = None
    llm_set: list[str] | None = None
    llm_cache: Path | None = None

    @property
    def used(self) -> bool:
        """Whether the search changes at all (--rewrite or --rerank)."""
        return bool(self.rewrite or self.rerank)

    def build_llm(self) -> Any:
        """The LLM of --llm-config and --llm (default: the bundled SmolLM2)."""
        from reasonembed.config import load_config
        from reasonembed.llm import LLMConfig, build_llm

        return build_llm(load_config(LLMConfig, self.llm_config, list(self.llm_set or [])))

    def eval_wrappers(self, default_cache: Path) -> list[Any]:
        """Per-task searcher wrappers for `evaluate`, innermost first: rewrite, then rerank."""
        if not self.used:
            return []
        from reasonembed.retrieval.rerank import PER_TASK, RerankWrapper
        from reasonembed.retrieval.rewrite import RewriteWrapper, build_rewriter

        llm = self.build_llm()
        cache = self.llm_cache or default_cache
        wrappers: list[Any] = []
        if self.rewrite:
            wrappers.append(RewriteWrapper(build_rewriter(llm, cache)))
        if self.rerank:
            domain = PER_TASK if self.rerank_domain == "per-task" else self.rerank_domain
            wrappers.append(RerankWrapper(llm, cache, depth=self.rerank, domain=domain))
        return wrappers

    def wrap_searcher(self, searcher: Any, doc_text: Any, default_cache: Path) -> Any:
        """One searcher with query rewriting and/or LLM reranking on top (for `reasonembed search`)."""
        if not self.used:
            return searcher
        from reasonembed.errors import ConfigError
        from reasonembed.retrieval.rerank import RerankingSearcher, build_reranker
        from reasonembed.retrieval.rewrite import RewritingSearcher, build_rewriter

        if self.rerank_domain == "per-task":
            raise ConfigError("--rerank-domain per-task needs tasks (reasonembed eval); give a BRIGHT task name here")
        llm = self.build_llm()
        cache = (self.llm_cache or default_cache).expanduser()
        if self.rewrite:
            searcher = RewritingSearcher(searcher, build_rewriter(llm, cache))
        if self.rerank:
            searcher = RerankingSearcher(searcher, build_reranker(llm, cache, self.rerank_domain), self.rerank, doc_text)
        return searcher


# LLMOptions' fields as typer parameters, in the order `--help` lists them.
_PARAMETERS = [
    inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=option, annotation=annotation)
    for name, annotation, option in [
        ("rewrite", bool, typer.Option(
            False, "--rewrite",
            help="Search with an LLM's reasoning in place of each query (BRIGHT's reason prompt; cached).")),
        ("rerank", int, typer.Option(
            0, "--rerank", min=0, help="LLM-rerank each query's top N with ReMixer's judge (0: off; cached).")),
        ("rerank_domain", str, typer.Option(
            None, "--rerank-domain",
            help="Relevance definition: a BRIGHT task name, 'per-task' (BRIGHT tasks), or unset (generic).")),
        ("llm_config", Path, typer.Option(
            None, "--llm-config", help="LLMConfig YAML for --rewrite/--rerank (default: bundled SmolLM2).")),
        ("llm_set", list[str], typer.Option(
            None, "--llm", help="LLMConfig override key=value, repeatable: --llm backend=openai --llm model=Qwen3-8B.")),
        ("llm_cache", Path, typer.Option(None, "--llm-cache", help="Cache folder of LLM answers for --rewrite/--rerank.")),
    ]
]
assert [p.name for p in _PARAMETERS] == [f.name for f in fields(LLMOptions)]


def with_llm_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """`command(..., llm: LLMOptions)` as a typer command whose last options are the six LLM options.

    typer reads a command's options from its signature; this one is `command`'s own, `llm` replaced
    by LLMOptions' fields, so the options are declared here once for every command that takes them.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for p in signature.parameters.values() if p.name != "llm"]
    signature = signature.replace(parameters=own + _PARAMETERS)

    @functools.wraps(command)
    def with_options(**values: Any) -> Any:
        llm = LLMOptions(**{p.name: values.pop(p.name) for p in _PARAMETERS})
        return command(**values, llm=llm)

    with_options.__signature__ = signature  # type: ignore[attr-defined]
    with_options.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}
    with_options.__annotations__["return"] = signature.return_annotation
    return with_options
