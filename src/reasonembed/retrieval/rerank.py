"""Pointwise LLM reranking of a searcher's top results, with ReMixer's relevance judge.

BRIGHT's strongest systems rerank a first-stage list with an LLM. Here the LLM is the same judge
that labels ReMixer's training pairs (METHOD.md §2.3, `remixer.prompts.judge_messages`): for each
(query, document) it analyses the query, then the document, then gives an integer 1-5 inside
`<score>` tags, read by `remixer.judge.parse_score`. A score-less answer is followed up once with
the judge's short "output only the score" turn (`score_followup_messages`, read by
`parse_followup_score`), as the judge stage does; a score is never guessed.

`RerankingSearcher(inner, reranker, depth, doc_texts)` asks `inner` for max(k, depth) hits (with
the excluded ids already removed, so an excluded document is never judged nor returned), judges
the top `depth` against the *original* query, and returns:

* the judged documents ordered by LLM score, descending; equal scores keep their inner order;
* a document whose score could not be read (unparsable after the follow-up, or a failed call)
  stays in its inner slot — an unknown judgement neither promotes nor demotes it — and is counted;
* the inner hits below `depth` after them, in their inner order.

`Hit.score` is then `n - position` (n = the list length): a strictly decreasing number, so
trec_eval (which sorts by score) reads exactly this order. The LLM's 1-5 scores of the last batch
are in `searcher.llm_scores[qid][docid]` (None when unreadable).

Costs and caching: one call per (query, judged document), plus one short follow-up per score-less
answer; `depth=100` (the paper's judging depth) on BRIGHT's ~1,400 queries is ~140,000 calls.
Answers are cached in `<cache_dir>/rerank/judgements.jsonl` under (model identity, judge prompt
version, domain definition, sampling, follow-up setting, query text, doc id, sha256 of the judged
document text), so a second run makes no call; unparsable answers are cached like scores, failed
calls are not (asked again next run). Pairs are judged in rounds of `remixer.judge.CHUNK_PAIRS`
(first answers, then their follow-ups), which bounds memory; a kill loses at most the answers of
the current round still waiting for a follow-up. Client exceptions propagate.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError
from reasonembed.llm import LLM, ChatRequest, LLMConfig, SamplingParams
from reasonembed.remixer.common import seed_of
from reasonembed.remixer.config import JudgeConfig
from reasonembed.remixer.judge import CHUNK_PAIRS, JudgeOutcome, judge_requests
from reasonembed.remixer.prompts import (
    BRIGHT_DOMAINS,
    JUDGE_PROMPT_VERSION,
    DomainSpec,
    judge_messages,
)
from reasonembed.retrieval.base import BatchSearcher, Excluded, Hit, Searcher
from reasonembed.retrieval.llm_cache import LLMResultCache, as_llm, cache_key, model_identity, text_hash

logger = logging.getLogger(__name__)

# For datasets that are not one of BRIGHT's domains: the judge's prompt with a plain definition.
GENERIC_DOMAIN = DomainSpec(
    name="generic",
    instruction="Given a query, retrieve relevant documents that help answer the query.",
    generation_task="",
    relevance_definition="The document is relevant if the information it contains helps answer the query.",
)


def resolve_domain(domain: str | DomainSpec | None) -> DomainSpec:
    """A domain spec by BRIGHT task name (e.g. "biology"), as given, or the generic one for None."""
    if domain is None:
        return GENERIC_DOMAIN
    if isinstance(domain, DomainSpec):
        return domain
    if domain == GENERIC_DOMAIN.name:
        return GENERIC_DOMAIN
    if domain not in BRIGHT_DOMAINS:
        raise ConfigError(f"rerank domain {domain!r} is not one of: generic, {', '.join(sorted(BRIGHT_DOMAINS))}")
    return BRIGHT_DOMAINS[domain]


class LLMReranker:
    """Scores (query, document) pairs 1-5 with the ReMixer judge prompt, cached and resumable.

    Defaults come from the judge stage's `JudgeConfig` (sampling T=0.7, top-p 0.95, top-k 40,
    2048 tokens; documents cut at 49,152 characters; a 16-token score follow-up).
    """

    def __init__(
        self,
        llm: LLM,
        cache_dir: str | Path | None = None,
        domain: str | DomainSpec | None = None,
        sampling: SamplingParams | None = None,
        max_doc_chars: int | None = None,
        score_followup: bool | None = None,
        followup_max_tokens: int | None = None,
    ):
        defaults = JudgeConfig()
        self.llm = llm
        self.model = model_identity(llm)
        self.domain = resolve_domain(domain)
        self.sampling = sampling or defaults.sampling
        self.max_doc_chars = max_doc_chars or defaults.max_doc_chars
        use_followup = defaults.score_followup if score_followup is None else score_followup
        tokens = followup_max_tokens or defaults.followup_max_tokens
        self.followup = replace(self.sampling, max_tokens=tokens) if use_followup else None
        self.cache = LLMResultCache(Path(cache_dir) / "rerank" if cache_dir is not None else None,
                                    "judgements", keep=("score", "status"))
        self.stats: Counter[str] = Counter()
        self.failures: list[dict[str, str]] = []

    def _settings(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_version": JUDGE_PROMPT_VERSION, "domain": asdict(self.domain),
                "sampling": self.sampling.to_dict(),
                "followup": self.followup.to_dict() if self.followup is not None else None}

    def key(self, query: str, doc_id: str, text: str) -> str:
        return cache_key(**self._settings(), query=query, doc_id=doc_id, doc_sha256=text_hash(text))

    def score_pairs(self, pairs: Sequence[tuple[str, str, str]]) -> list[int | None]:
        """The 1-5 score of each `(query, doc_id, doc_text)`, None where none could be read."""
        cut = [(q, d, t[: self.max_doc_chars]) for q, d, t in pairs]
        keys = [self.key(*pair) for pair in cut]
        failures_before = len(self.failures)
        with self.cache:
            todo = {k: pair for k, pair in zip(keys, cut, strict=True) if k not in self.cache}
            self.stats["pairs"] += len(pairs)
            self.stats["cached"] += sum(1 for k in keys if k not in todo)
            items = list(todo.items())
            for begin in range(0, len(items), CHUNK_PAIRS):  # bounds the answers held for follow-ups
                requests = (
                    ChatRequest(k, judge_messages(self.domain, q, t), self.sampling, seed_of(k, "rerank"))
                    for k, (q, d, t) in items[begin : begin + CHUNK_PAIRS]
                )
                for judged in judge_requests(self.llm, requests, self.followup):
                    self._record(judged, *todo[judged.key])
            scores = []
            for k in keys:
                hit = self.cache.get(k)
                scores.append(hit["score"] if hit else None)
        failed = len(self.failures) - failures_before
        if failed:
            logger.warning("%d of %d rerank calls failed; those documents keep their first-stage slot", failed, len(todo))
        return scores

    def _record(self, judged: JudgeOutcome, query: str, doc_id: str, text: str) -> None:
        if judged.followup_request is not None:
            self.stats["followup_asked"] += 1
        if judged.status == "failed":
            self.stats["llm_failed"] += 1
            self.failures.append({"query": query, "doc_id": doc_id, "error": judged.error or "error"})
            return
        self.stats[f"status_{judged.status}"] += 1
        self.stats["unparsable" if judged.score is None else f"score_{judged.score}"] += 1
        record = {"key": judged.key, **self._settings(), "domain": self.domain.name, "query_sha256": text_hash(query),
                  "doc_id": doc_id, "doc_sha256": text_hash(text), "score": judged.score, "status": judged.status,
                  "rationale": judged.rationale}
        if judged.followup is not None:
            record["followup_answer"] = judged.followup
            record["followup_parse"] = judged.followup_parse
        self.cache.put(record)

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "prompt_version": JUDGE_PROMPT_VERSION, "domain": self.domain.name,
                "sampling": self.sampling.to_dict(), "score_followup": self.followup is not None,
                "cache": str(self.cache.path) if self.cache.path else None, "counts": dict(self.stats)}


def rerank_order(hits: Sequence[Hit], scores: Sequence[int | None]) -> list[Hit]:
    """Scored hits sorted by score (ties: inner order) into the scored slots; unscored hits stay put."""
    slots = [i for i, s in enumerate(scores) if s is not None]
    ranked = sorted(slots, key=lambda i: (-(scores[i] or 0), i))
    out = list(hits)
    for slot, source in zip(slots, ranked, strict=True):
        out[slot] = hits[source]
    return out


class RerankingSearcher(BatchSearcher):
    """`inner`'s top `depth` reordered by `reranker`, the rest of the inner list below (see module doc).

    `doc_texts` gives each document's text: a mapping, or a lookup function such as
    `IndexSearcher.document` (a KeyError means "no such document"). Subclasses reorder differently
    by overriding `_reorder` (`listwise.ListwiseRerankingSearcher`).
    """

    def __init__(self, inner: Searcher, reranker: Any, depth: int = 100,
                 doc_texts: Mapping[str, str] | Callable[[str], str] | None = None):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if doc_texts is None:
            raise ValueError("doc_texts (doc id -> text) is needed: the judge reads each document")
        self.inner = inner
        self.reranker = reranker
        self.depth = depth
        self.doc_texts = doc_texts
        self.llm_scores: dict[str, dict[str, int | None]] = {}

    def _text(self, doc_id: str, qid: str) -> str:
        if isinstance(self.doc_texts, Mapping):
            text = self.doc_texts.get(doc_id)
        else:
            try:
                text = self.doc_texts(doc_id)
            except KeyError:
                text = None
        if text is None:
            raise ConfigError(f"reranking: no document text for doc id {doc_id!r} (query {qid!r})")
        return text

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        first = self.inner.batch_search(queries, qids, max(k, self.depth), excluded)
        heads = [first.get(qid, [])[: self.depth] for qid in qids]
        texts = [[self._text(h.docid, qid) for h in head] for qid, head in zip(qids, heads, strict=True)]
        orders = self._reorder(list(queries), list(qids), heads, texts)
        out: dict[str, list[Hit]] = {}
        for qid, order in zip(qids, orders, strict=True):
            full = order + list(first.get(qid, [])[self.depth :])
            out[qid] = [Hit(h.docid, float(len(full) - i)) for i, h in enumerate(full)][:k]
        return out

    def _reorder(self, queries: list[str], qids: list[str], heads: list[list[Hit]],
                 texts: list[list[str]]) -> list[list[Hit]]:
        """Pointwise: every (query, head document) scored 1-5, then `rerank_order`."""
        pairs = [(q, h.docid, t) for q, head, ts in zip(queries, heads, texts, strict=True)
                 for h, t in zip(head, ts, strict=True)]
        scores = iter(self.reranker.score_pairs(pairs))
        self.llm_scores = {}
        orders = []
        for qid, head in zip(qids, heads, strict=True):
            head_scores = [next(scores) for _ in head]
            self.llm_scores[qid] = {h.docid: s for h, s in zip(head, head_scores, strict=True)}
            orders.append(rerank_order(head, head_scores))
        return orders


PER_TASK = "per-task"


class RerankWrapper:
    """The evaluation harness's per-task hook `(searcher, task) -> searcher`: the task's top `depth`
    reranked, the judge reading `task.doc_texts`.

    `domain`: None (generic relevance definition), a BRIGHT task name or `DomainSpec` (the same for
    every task), or `PER_TASK`: each task's name must be a BRIGHT domain (use it for BRIGHT itself;
    an unknown task name is an error, never a silent fallback). One `LLMReranker` (and cache) per domain.
    """

    def __init__(self, llm: LLMConfig | LLM, cache_dir: str | Path | None, depth: int = 100,
                 domain: str | DomainSpec | None = None, **options: Any):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.llm = as_llm(llm)
        self.cache_dir = cache_dir
        self.depth = depth
        self.domain = domain
        self.options = options
        self.rerankers: dict[str, LLMReranker] = {}

    def _reranker(self, task_name: str) -> LLMReranker:
        if self.domain == PER_TASK and task_name not in BRIGHT_DOMAINS:
            raise ConfigError(f"task {task_name!r}: reranking per task needs a BRIGHT task name "
                              f"({', '.join(sorted(BRIGHT_DOMAINS))}); give one domain for all tasks instead")
        spec = resolve_domain(task_name if self.domain == PER_TASK else self.domain)
        if spec.name not in self.rerankers:
            self.rerankers[spec.name] = LLMReranker(self.llm, self.cache_dir, spec, **self.options)
        return self.rerankers[spec.name]

    def __call__(self, searcher: Searcher, task: Any) -> Searcher:
        texts = dict(zip(task.doc_ids, task.doc_texts, strict=True))
        return RerankingSearcher(searcher, self._reranker(task.name), self.depth, texts)

    def describe(self) -> dict[str, Any]:
        first = next(iter(self.rerankers.values()), None)
        about = first.describe() if first is not None else {"model": model_identity(self.llm)}
        about = {k: v for k, v in about.items() if k not in ("domain", "counts")}
        domains = {name: dict(r.stats) for name, r in self.rerankers.items()}
        return {"rerank": {**about, "depth": self.depth, "domains": domains}}


def build_reranker(
    llm: LLMConfig | LLM, cache_dir: str | Path | None, domain: str | DomainSpec | None = None, **options: Any
) -> LLMReranker:
    """An `LLMReranker` on the backend an `LLMConfig` names (or an LLM already built).

    `domain`: a BRIGHT task name (its relevance definition is used), a `DomainSpec`, or None for a
    generic definition. `options` go to `LLMReranker` (sampling, max_doc_chars, score_followup, ...).
    """
    return LLMReranker(as_llm(llm), cache_dir, domain, **options)
