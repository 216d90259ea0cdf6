"""Listwise LLM reranking with a sliding window (the RankGPT scheme; Sun et al., EMNLP 2023).

Pointwise reranking (`rerank.py`) asks one question per document; listwise shows the LLM a window
of documents at once and asks for their order, which costs fewer calls (about depth / step per
query instead of depth) but needs a model that can compare long inputs. The window slides from the
bottom of the top-`depth` list to the top, `step` documents at a time, so a relevant document found
low in the list can climb to the first window.

The prompt (`listwise_messages`, version `LISTWISE_PROMPT_VERSION`) numbers the window's documents
[1]..[n] (whitespace collapsed, each cut at `max_doc_chars`) and asks for identifiers, most helpful
first (`[2] > [1] > [3]`). `parse_permutation` reads every `[i]` in the answer: repeats and numbers
outside the window are dropped, documents the answer leaves out follow in their current order;
an answer naming no document is unparsable and leaves the window as it was (counted). Greedy
decoding by default (`LISTWISE_SAMPLING`), so a cached answer is the one a rerun would give.

Caching as for the other LLM tools (`llm_cache`): `<cache_dir>/listwise/windows.jsonl`, keyed on
the model, prompt version, sampling, query text and the window's (doc id, text hash) in shown
order; unparsable answers are cached, failed calls are not. `ListwiseRerankingSearcher` is
`RerankingSearcher` with this reordering (same fetch, excluded ids, tail and scores).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonembed.llm import LLM, ChatRequest, SamplingParams
from reasonembed.remixer.common import seed_of
from reasonembed.retrieval.base import Hit
from reasonembed.retrieval.llm_cache import LLMResultCache, cache_key, model_identity, text_hash
from reasonembed.retrieval.rerank import RerankingSearcher

LISTWISE_PROMPT_VERSION = "listwise-v1"
LISTWISE_SAMPLING = SamplingParams(temperature=0.0, top_p=1.0, top_k=None, max_tokens=256)
_ID = re.compile(r"\[(\d+)\]")


def listwise_messages(query: str, texts: Sequence[str]) -> list[dict[str, str]]:
    n = len(texts)
    passages = "\n".join(f"[{i}] {' '.join(t.split())}" for i, t in enumerate(texts, start=1))
    user = (
        f"Rank the {n} passages below by how much they help answer the query, most helpful first.\n\n"
        f"Query: {' '.join(query.split())}\n\n{passages}\n\n"
        f"Answer with the passage identifiers only, most helpful first, for example: [2] > [1] > [3]. "
        f"Rank all {n} passages."
    )
    return [{"role": "user", "content": user}]


def parse_permutation(text: str, n: int) -> list[int] | None:
    """0-based order of a window of `n` from an answer like "[2] > [1] > [3]"; None if it names none."""
    order: list[int] = []
    for match in _ID.finditer(text or ""):
        i = int(match.group(1)) - 1
        if 0 <= i < n and i not in order:
            order.append(i)
    if not order:
        return None
    return order + [i for i in range(n) if i not in order]


class ListwiseReranker:
    """Orders each query's head list with sliding-window listwise LLM calls, cached and resumable.

    `step` (default: half the window) is how far the window moves up each time."""

    def __init__(self, llm: LLM, cache_dir: str | Path | None = None, window: int = 20, step: int | None = None,
                 sampling: SamplingParams = LISTWISE_SAMPLING, max_doc_chars: int = 2000):
        step = window // 2 if step is None else step
        if window < 2 or not 1 <= step <= window:
            raise ValueError(f"need window >= 2 and 1 <= step <= window, got window={window}, step={step}")
        self.llm = llm
        self.model = model_identity(llm)
        self.window = window
        self.step = step
        self.sampling = sampling
        self.max_doc_chars = max_doc_chars
        self.cache = LLMResultCache(Path(cache_dir) / "listwise" if cache_dir is not None else None,
                                    "windows", keep=("order",))
        self.stats: Counter[str] = Counter()
        self.failures: list[dict[str, str]] = []

    def starts(self, n: int) -> list[int]:
        """Window starts, bottom first: n - window, then `step` higher each time, ending at 0."""
        out, start = [], n - self.window
        while True:
            out.append(max(start, 0))
            if start <= 0:
                return out
            start -= self.step

    def key(self, query: str, items: Sequence[tuple[str, str]]) -> str:
        return cache_key(model=self.model, prompt_version=LISTWISE_PROMPT_VERSION, sampling=self.sampling.to_dict(),
                         query=query, window=[[d, text_hash(t)] for d, t in items])

    def reorder(self, queries: Sequence[str], heads: Sequence[Sequence[Hit]],
                texts: Sequence[Sequence[str]]) -> list[list[int]]:
        """For each query, the order of its head list (indices into it) after every window."""
        orders = [list(range(len(head))) for head in heads]
        plans = [self.starts(len(head)) if head else [] for head in heads]
        with self.cache:
            for rnd in range(max((len(p) for p in plans), default=0)):
                jobs: dict[str, tuple[str, list[tuple[str, str]], list[tuple[int, int, list[int]]]]] = {}
                for qi, plan in enumerate(plans):
                    if rnd >= len(plan):
                        continue
                    start = plan[rnd]
                    idx = orders[qi][start : start + self.window]
                    items = [(heads[qi][i].docid, texts[qi][i][: self.max_doc_chars]) for i in idx]
                    key = self.key(queries[qi], items)
                    jobs.setdefault(key, (queries[qi], items, []))[2].append((qi, start, idx))
                    self.stats["windows"] += 1
                todo = {k: (q, items) for k, (q, items, _) in jobs.items() if k not in self.cache}
                self.stats["cached"] += sum(len(places) for k, (_, _, places) in jobs.items() if k not in todo)
                self._ask(todo)
                for key, (_, _, places) in jobs.items():
                    hit = self.cache.get(key)
                    perm = hit["order"] if hit else None
                    for qi, start, idx in places:
                        if perm:
                            orders[qi][start : start + len(idx)] = [idx[j] for j in perm]
        return orders

    def _ask(self, todo: dict[str, tuple[str, list[tuple[str, str]]]]) -> None:
        requests = (ChatRequest(k, listwise_messages(q, [t for _, t in items]), self.sampling, seed_of(k, "listwise"))
                    for k, (q, items) in todo.items())
        for request, result in self.llm.map(requests):
            query, items = todo[request.key]
            if not result.ok:
                self.stats["llm_failed"] += 1
                self.failures.append({"query": query, "error": result.error or "error"})
                continue
            perm = parse_permutation(result.text, len(items))
            self.stats["ok" if perm is not None else "unparsable"] += 1
            self.cache.put({"key": request.key, "model": self.model, "prompt_version": LISTWISE_PROMPT_VERSION,
                            "sampling": self.sampling.to_dict(), "query_sha256": text_hash(query),
                            "doc_ids": [d for d, _ in items], "order": perm, "answer": result.text})

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_version": LISTWISE_PROMPT_VERSION, "window": self.window,
                "step": self.step, "sampling": self.sampling.to_dict(),
                "cache": str(self.cache.path) if self.cache.path else None, "counts": dict(self.stats)}


class ListwiseRerankingSearcher(RerankingSearcher):
    """`RerankingSearcher` whose head list is ordered by a `ListwiseReranker` (no per-document scores)."""

    def _reorder(self, queries: list[str], qids: list[str], heads: list[list[Hit]],
                 texts: list[list[str]]) -> list[list[Hit]]:
        orders = self.reranker.reorder(queries, heads, texts)
        return [[head[i] for i in order] for head, order in zip(heads, orders, strict=True)]
