"""Stage 1, `generate`: one conditioned query per sampled source document (METHOD §2.1).

Each query is conditioned on the document, its domain's generation instruction, a target length
(six buckets weighted 1,2,3,3,2,1) and an education level (high school 1, college 2, PhD 2). The
draws come from a `random.Random` seeded by the record id (hash of source id, prompt version and
master seed), so they are identical however often the stage is resumed.

Outputs are cleaned (quotes, code fences, 'Query:' labels) and rejected — into
`generate/rejected.jsonl`, with the reason — when too short, when they refer to 'the passage' /
'the given …' instead of being self-contained, when they copy the document (query substring of the
document, or word-trigram overlap at or above `max_copy_jaccard`), or when their normalised-text MD5
equals an earlier query's (`duplicate_query`, METHOD §2.1). An empty reply is asked again with a
new seed up to `generate.empty_retries` times; one still empty, like a failed LLM call, writes
nothing and is asked again by the next run.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter, iter_jsonl
from reasonembed.llm.base import LLM, ChatRequest
from reasonembed.records import Document
from reasonembed.remixer import dedup
from reasonembed.remixer.common import (
    RunPaths,
    StageResult,
    domain_spec,
    domain_specs,
    load_documents,
    require,
    seed_of,
    stable_id,
    weighted_choice,
)
from reasonembed.remixer.config import GenerateConfig, SynthConfig
from reasonembed.remixer.prompts import PROMPT_VERSION, generation_messages

logger = logging.getLogger(__name__)

_REFERS = re.compile(
    r"\b(the|this|that|above|following)\s+(given|provided|above|following)?\s*"
    r"(passage|document|text|article|snippet|excerpt|paragraph|solution|problem above)\b"
    r"|\bthe\s+(given|provided)\b|\bas\s+(described|mentioned|stated)\s+(above|in the)\b",
    re.IGNORECASE,
)
_LABEL = re.compile(r"^\s*(\*\*)?(query|question|post|problem|new problem|instruction|title)\s*(\*\*)?\s*:\s*", re.IGNORECASE)


def postprocess(text: str) -> str:
    text = text.strip()
    text = re.sub(r"^```[\w-]*\n?|\n?```$", "", text).strip()
    text = _LABEL.sub("", text).strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def rejection_reason(query: str, document: str, cfg: GenerateConfig) -> str | None:
    """Why a generated query is unusable, or None when it is fine."""
    if not query:
        return "empty"
    if len(query) < cfg.min_query_chars:
        return "too_short"
    if _REFERS.search(query):
        return "refers_to_source"
    if dedup.normalize(query) in dedup.normalize(document):
        return "copies_source"
    q, d = dedup.word_ngrams(query), dedup.word_ngrams(document)
    if dedup.jaccard(q, d) >= cfg.max_copy_jaccard or dedup.containment(q, d) >= 0.8:
        return "copies_source"
    return None


def sample_sources(config: SynthConfig, docs: dict[str, Document]) -> list[Document]:
    """Up to `max_docs_per_domain` documents per domain, seeded (METHOD §2.0: seed 42)."""
    by_domain: dict[str, list[str]] = {}
    for doc in docs.values():
        by_domain.setdefault(doc.domain or config.domain, []).append(doc.id)
    chosen: list[Document] = []
    for domain in sorted(by_domain):
        ids = sorted(by_domain[domain])
        n = min(len(ids), config.generate.max_docs_per_domain)
        picked = random.Random(seed_of(config.seed, domain)).sample(ids, n)
        chosen.extend(docs[i] for i in sorted(picked))
    return chosen


def query_id(source_id: str, seed: int) -> str:
    return "q-" + stable_id(source_id, PROMPT_VERSION, seed)


def conditions(record_id: str, cfg: GenerateConfig) -> dict[str, str]:
    rng = random.Random(seed_of(record_id, "conditions"))
    return {"length": weighted_choice(rng, cfg.length_buckets), "education": weighted_choice(rng, cfg.education_levels)}


def provenance(llm: LLM, sampling: dict[str, Any], seed: int, stage: str) -> dict[str, Any]:
    return {"stage": stage, "model": llm.model, "backend": llm.backend, "prompt_version": PROMPT_VERSION,
            "sampling": sampling, "seed": seed}


def run_generate(config: SynthConfig, llm: LLM, corpus: str | Path | None = None, out: str | Path | None = None) -> StageResult:
    """Write `generate/queries.jsonl` (Query contract) and `generate/rejected.jsonl`."""
    start = time.perf_counter()
    paths = RunPaths.of(config)
    docs = load_documents(require(Path(corpus) if corpus else paths.corpus, "clean"), config.domain)
    output = Path(out) if out else paths.queries
    specs = domain_specs(config)
    sources = sample_sources(config, docs)
    sampling = config.generate.sampling
    counts: Counter[str] = Counter(sources=len(sources))
    cfg = config.generate
    with ResumableJsonlWriter(output, key=lambda r: r["id"]) as writer, \
            ResumableJsonlWriter(output.parent / "rejected.jsonl", key=lambda r: r["id"]) as rejected:
        seen = {dedup.text_hash(r["query"]) for _, r in iter_jsonl(output)} if cfg.dedup_queries else set()

        def request(doc: Document, attempt: int) -> ChatRequest:
            rid = query_id(doc.id, config.seed)
            cond = conditions(rid, cfg)
            messages = generation_messages(domain_spec(config, doc.domain, specs), doc.text, cond["length"], cond["education"])
            seed = seed_of(rid, "llm") if attempt == 0 else seed_of(rid, "llm", attempt)
            return ChatRequest((rid, doc, cond), messages, sampling, seed, cfg.extra_body or None)

        pending = [d for d in sources if not (writer.done(query_id(d.id, config.seed)) or rejected.done(query_id(d.id, config.seed)))]
        counts["skipped_done"] = len(sources) - len(pending)
        bar = tqdm(total=len(pending), desc="generate")
        for attempt in range(cfg.empty_retries + 1):  # an empty reply is asked again with a new seed
            if attempt:
                counts["empty_retried"] += len(pending)
            empties: list[Document] = []
            for req, result in llm.map(request(doc, attempt) for doc in pending):
                rid, doc, cond = req.key
                text = postprocess(result.text)
                if result.ok and not text:
                    empties.append(doc)
                    continue
                bar.update()
                if not result.ok:
                    counts["llm_failed"] += 1
                    continue
                prov = provenance(llm, sampling.to_dict(), req.seed, "generate")
                reason = rejection_reason(text, doc.text, cfg)
                if reason is None and cfg.dedup_queries and dedup.text_hash(text) in seen:
                    reason = "duplicate_query"
                if reason:
                    counts[f"rejected_{reason}"] += 1
                    rejected.write({"id": rid, "source_id": doc.id, "domain": doc.domain, "reason": reason,
                                    "text": result.text, "conditions": cond, "provenance": prov})
                    continue
                seen.add(dedup.text_hash(text))
                writer.write({"id": rid, "source_id": doc.id, "domain": doc.domain,
                              "instruction": domain_spec(config, doc.domain, specs).instruction,
                              "query": text, "conditions": cond, "provenance": prov})
                counts["written"] += 1
            pending = empties
            if not pending:
                break
        if pending:  # still empty: nothing written, so the next run asks again
            counts["empty"] = len(pending)
            bar.update(len(pending))
        bar.close()
        counts["total_queries"] = len(writer)
    return StageResult("generate", output, dict(counts), time.perf_counter() - start)
