"""LLM reasoning-query rewriting: BRIGHT's "reason" query variants, made with your own LLM.

BRIGHT showed that retrieval on reasoning-intensive queries improves when an LLM first reasons
about the query and the retriever searches with that reasoning instead of the query
(METHOD.md B.2; the `{llm}_reason` variants). `QueryRewriter` writes that reasoning for any
query with any backend of `reasonembed.llm` (an OpenAI-compatible endpoint or the in-process
model), and `RewritingSearcher` puts it in front of any `Searcher`, so
`RewritingSearcher(dense_or_bm25_or_fused, rewriter)` is BRIGHT's "reasoning query" setting.

The prompt is BRIGHT's `reason.py` one, defined once here (`reason_messages`, versioned by
`REASON_PROMPT_VERSION`): the query with its newlines replaced by spaces, then "Instructions:"
and three steps (identify the essential problem; think step by step about what information could
help; draft an answer). Sampling is BRIGHT's: temperature 0.8, top-p 0.8, up to 2048 tokens
(`REASON_SAMPLING`). As in BRIGHT the reasoning *replaces* the query; a reasoning model's
`<think>` block is dropped by the client and only its answer is used.

Costs and caching: one LLM call per distinct query, sent through `LLM.map` (bounded concurrency
against endpoints, batches in process). Each answer is stored under (model identity, prompt
version, sampling, query text) in `<cache_dir>/rewrite/rewrites.jsonl` (see `llm_cache`), so a
second run makes no call and a killed run resumes where it stopped. A query whose call fails, or
whose answer is empty, is searched with its original text, counted in `stats` and listed in
`failures` (never cached, so it is asked again next time); an exception raised by the client
(e.g. an endpoint that is down for good) propagates. `reasonings()` returns None for those
instead (for ReMixer's q', which writes nothing for a failure).

`write_reason_variant(task_folder, rewriter, "mymodel_reason")` writes the rewritten examples as a
query-variant file of a BRIGHT-layout task, for `reasonembed eval --query-variant mymodel_reason`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reasonembed.errors import ReasonEmbedError, RecordError
from reasonembed.io import iter_table, write_jsonl
from reasonembed.llm import LLM, ChatRequest, LLMConfig, SamplingParams
from reasonembed.remixer.common import seed_of
from reasonembed.remixer.prompts import REASON_PROMPT_VERSION, reason_messages
from reasonembed.retrieval.base import BatchSearcher, Excluded, Hit, Searcher
from reasonembed.retrieval.llm_cache import LLMResultCache, as_llm, cache_key, model_identity, text_hash

logger = logging.getLogger(__name__)

REASON_SAMPLING = SamplingParams(temperature=0.8, top_p=0.8, top_k=None, max_tokens=2048)


class QueryRewriter:
    """Rewrites queries into LLM reasoning, cached and resumable. `rewrite(queries) -> texts`."""

    def __init__(self, llm: LLM, cache_dir: str | Path | None = None, sampling: SamplingParams = REASON_SAMPLING):
        self.llm = llm
        self.sampling = sampling
        self.model = model_identity(llm)
        self.cache = LLMResultCache(Path(cache_dir) / "rewrite" if cache_dir is not None else None,
                                    "rewrites", keep=("reasoning",))
        self.stats: Counter[str] = Counter()
        self.failures: list[dict[str, str]] = []

    def key(self, query: str) -> str:
        return cache_key(model=self.model, prompt_version=REASON_PROMPT_VERSION,
                         sampling=self.sampling.to_dict(), query=query)

    def rewrite(self, queries: Sequence[str]) -> list[str]:
        """The reasoning for each query (in order); a query whose rewrite failed comes back as is."""
        return [r if r is not None else q for q, r in zip(queries, self.reasonings(queries), strict=True)]

    def reasonings(self, queries: Sequence[str]) -> list[str | None]:
        """The reasoning for each query (in order), None where the LLM gave none this time."""
        start = time.perf_counter()
        keys = [self.key(q) for q in queries]
        with self.cache:
            todo = {k: q for k, q in zip(keys, queries, strict=True) if k not in self.cache}
            self.stats["requested"] += len(queries)
            self.stats["cached"] += sum(1 for k in keys if k not in todo)
            self._generate(todo)
            out = []
            for k in keys:
                hit = self.cache.get(k)
                out.append(hit["reasoning"] if hit else None)
        if todo:
            logger.info("rewrote %d queries in %.1fs (%s)", len(todo), time.perf_counter() - start, dict(self.stats))
        return out

    def _generate(self, todo: Mapping[str, str]) -> None:
        def requests() -> Iterator[ChatRequest]:
            for k, q in todo.items():
                yield ChatRequest(k, reason_messages(q), self.sampling, seed_of(k, "rewrite"))

        failed = 0
        for request, result in self.llm.map(requests()):
            query = todo[request.key]
            reasoning = result.text.strip()
            if not result.ok or not reasoning:
                kind = "failed" if not result.ok else "empty"
                self.stats[kind] += 1
                failed += 1
                self.failures.append({"query": query, "error": result.error or "empty answer"})
                continue
            self.cache.put({
                "key": request.key, "model": self.model, "prompt_version": REASON_PROMPT_VERSION,
                "sampling": self.sampling.to_dict(), "seed": request.seed, "query_sha256": text_hash(query),
                "query": query, "reasoning": reasoning, "completion_tokens": result.completion_tokens,
            })
            self.stats["generated"] += 1
        if failed:
            logger.warning("%d of %d query rewrites failed; those queries are searched as written "
                           "(first error: %s)", failed, len(todo), self.failures[-failed]["error"])

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_version": REASON_PROMPT_VERSION, "sampling": self.sampling.to_dict(),
                "cache": str(self.cache.path) if self.cache.path else None, "counts": dict(self.stats)}


class RewritingSearcher(BatchSearcher):
    """Rewrite every query with `rewriter`, then search `inner` with the rewritten text.

    `excluded` is passed through unchanged, so BRIGHT's excluded ids stay excluded.
    `rewritten` holds the last batch's `qid -> text searched`.
    """

    def __init__(self, inner: Searcher, rewriter: QueryRewriter):
        self.inner = inner
        self.rewriter = rewriter
        self.rewritten: dict[str, str] = {}

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        texts = self.rewriter.rewrite(list(queries))
        self.rewritten = dict(zip(qids, texts, strict=True))
        return self.inner.batch_search(texts, qids, k, excluded)


class RewriteWrapper:
    """The evaluation harness's per-task hook `(searcher, task) -> searcher`: one rewriter (and one
    cache) shared by every task, in front of each task's searcher."""

    def __init__(self, rewriter: QueryRewriter):
        self.rewriter = rewriter

    def __call__(self, searcher: Searcher, task: Any) -> Searcher:
        return RewritingSearcher(searcher, self.rewriter)

    def describe(self) -> dict[str, Any]:
        return {"rewrite": self.rewriter.describe()}


def write_reason_variant(
    folder: str | Path, rewriter: QueryRewriter, variant: str, source: str = "examples"
) -> Path:
    """Write `<folder>/<variant>.jsonl`: the `<source>` examples (.jsonl or .parquet) of a BRIGHT-layout
    task with each `query` replaced by its LLM reasoning, i.e. a query variant that
    `reasonembed eval --query-variant <variant>` reads like BRIGHT's own `{llm}_reason` ones.

    The file is written atomically and only when every query was rewritten: a variant silently
    mixing reasoning and original queries would score as neither. Answers already received stay in
    the rewriter's cache, so running again retries only the failures.
    """
    folder = Path(folder)
    if variant == source:
        raise ReasonEmbedError(f"{folder}: the variant name {variant!r} would overwrite the examples it is made from")
    path = next((folder / f"{source}{ext}" for ext in (".jsonl", ".parquet") if (folder / f"{source}{ext}").exists()),
                None)
    if path is None:
        raise ReasonEmbedError(f"{folder}: no {source}.jsonl or {source}.parquet to rewrite")
    records = []
    for line, record in iter_table(path):
        if not isinstance(record.get("query"), str) or not record["query"].strip():
            raise RecordError(path, line, "query", "missing, empty or not a string")
        records.append(record)
    reasonings = rewriter.reasonings([r["query"] for r in records])
    failed = [r["id"] if "id" in r else i for i, (r, x) in enumerate(zip(records, reasonings, strict=True)) if x is None]
    if failed:
        raise ReasonEmbedError(
            f"{path}: {len(failed)} of {len(records)} queries could not be rewritten (first: {failed[0]!r}; "
            f"{rewriter.failures[-1]['error'] if rewriter.failures else 'no answer'}); nothing written, the "
            "answers received are cached: run again to retry the rest"
        )
    out = folder / f"{variant}.jsonl"
    write_jsonl(out, ({**r, "query": x} for r, x in zip(records, reasonings, strict=True)))
    return out


def build_rewriter(
    llm: LLMConfig | LLM, cache_dir: str | Path | None, sampling: SamplingParams = REASON_SAMPLING
) -> QueryRewriter:
    """A `QueryRewriter` on the backend an `LLMConfig` names (or on an LLM already built)."""
    return QueryRewriter(as_llm(llm), cache_dir, sampling)
