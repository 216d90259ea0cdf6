"""Stage 1, `generate`: one conditioned query per sampled source document (METHOD §2.1).

Each query is conditioned on the document, its domain's generation instruction, a target length
(six buckets weighted 1,2,3,3,2,1) and an education level (high school 1, college 2, PhD 2). The
draws come from a `random.Random` seeded by the record id (hash of source id, prompt version and
master seed), so they are identical however often the stage is resumed.

Outputs are cleaned (quotes, code fences, 'Query:' labels) and rejected — into
`generate/rejected.jsonl`, with the reason — when empty or too short, when they refer to 'the
passage' / 'the given …' instead of being self-contained, or when they copy the document (query
substring of the document, or word-trigram overlap at or above `max_copy_jaccard`). Failed LLM
calls write nothing and are retried by the next run.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter
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
    sampling = config.generate.sampling.params()
    counts: Counter[str] = Counter(sources=len(sources))
    with ResumableJsonlWriter(output, key=lambda r: r["id"]) as writer, \
            ResumableJsonlWriter(output.parent / "rejected.jsonl", key=lambda r: r["id"]) as rejected:

        def todo() -> Iterator[ChatRequest]:
            for doc in sources:
                rid = query_id(doc.id, config.seed)
                if writer.done(rid) or rejected.done(rid):
                    continue
                cond = conditions(rid, config.generate)
                spec = domain_spec(config, doc.domain, specs)
                messages = generation_messages(spec, doc.text, cond["length"], cond["education"])
                yield ChatRequest((rid, doc, cond), messages, sampling, seed_of(rid, "llm"))

        pending = len(sources) - len(writer) - len(rejected)
        counts["skipped_done"] = len(sources) - pending
        for request, result in tqdm(llm.map(todo()), total=pending, desc="generate"):
            rid, doc, cond = request.key
            if not result.ok:
                counts["llm_failed"] += 1
                continue
            prov = provenance(llm, sampling.to_dict(), request.seed, "generate")
            text = postprocess(result.text)
            reason = rejection_reason(text, doc.text, config.generate)
            if reason:
                counts[f"rejected_{reason}"] += 1
                rejected.write({"id": rid, "source_id": doc.id, "domain": doc.domain, "reason": reason,
                                "text": result.text, "conditions": cond, "provenance": prov})
                continue
            spec = domain_spec(config, doc.domain, specs)
            writer.write({"id": rid, "source_id": doc.id, "domain": doc.domain, "instruction": spec.instruction,
                          "query": text, "conditions": cond, "provenance": prov})
            counts["written"] += 1
        counts["total_queries"] = len(writer)
    return StageResult("generate", output, dict(counts), time.perf_counter() - start)
