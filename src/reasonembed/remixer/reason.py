"""Stage 4, `reason`: the reasoning-augmented query q' that Redapter compares against (DESIGN §1e).

q' = the query, a blank line, then the LLM's reasoning about what knowledge would answer it. The
released ReasonEmbed code never shows how q' was made (METHOD §3.2, "unresolved"); we use BRIGHT's
reasoning prompt (`prompts.reason_messages`, the one `--rewrite` uses at search time: identify the
problem, reason step by step about useful information, draft an answer; T=0.8, top_p=0.8). Empty
replies are counted and write nothing (retried next run).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter, iter_jsonl
from reasonembed.llm.base import LLM, ChatRequest
from reasonembed.records import Query, validate_record
from reasonembed.remixer.common import RunPaths, StageResult, require, seed_of
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.generate import provenance
from reasonembed.remixer.prompts import REASON_PROMPT_VERSION, reason_messages


def reasoning_query(query: str, reasoning: str) -> str:
    return f"{query}\n\n{reasoning.strip()}"


def run_reason(config: SynthConfig, llm: LLM, queries: str | Path | None = None, out: str | Path | None = None) -> StageResult:
    """Write `reason/reasoning.jsonl`: {query_id, reasoning, reasoning_query, provenance}."""
    start = time.perf_counter()
    paths = RunPaths.of(config)
    qpath = require(Path(queries) if queries else paths.queries, "generate")
    output = Path(out) if out else paths.reasoning
    qs = [validate_record(r, Query, qpath, n) for n, r in iter_jsonl(qpath)]
    sampling = config.reason.sampling
    counts: Counter[str] = Counter(queries=len(qs))
    with ResumableJsonlWriter(output, key=lambda r: r["query_id"]) as writer:

        def todo() -> Iterator[ChatRequest]:
            for q in qs:
                if not writer.done(q.id):
                    messages = reason_messages(q.query)
                    yield ChatRequest(q, messages, sampling, seed_of(q.id, "reason"), config.reason.extra_body or None)

        pending = sum(1 for q in qs if not writer.done(q.id))
        counts["skipped_done"] = len(qs) - pending
        for request, result in tqdm(llm.map(todo()), total=pending, desc="reason"):
            q = request.key
            if not result.ok:
                counts["llm_failed"] += 1
                continue
            if not result.text.strip():
                counts["empty"] += 1
                continue
            writer.write({"query_id": q.id, "reasoning": result.text.strip(),
                          "reasoning_query": reasoning_query(q.query, result.text),
                          "provenance": {**provenance(llm, sampling.to_dict(), request.seed, "reason"),
                                         "prompt_version": REASON_PROMPT_VERSION}})
            counts["written"] += 1
    return StageResult("reason", output, dict(counts), time.perf_counter() - start)
