"""Stage 3, `judge`: one LLM call per (query, candidate) pair, a 1–5 score in `<score>` tags (METHOD §2.3).

The prompt (prompts.judge_messages) carries the domain's relevance definition and asks for three
steps — query analysis, document analysis, relevance annotation — ending in `<score>N</score>`.
`parse_score` accepts exactly an integer 1–5 inside the tags (the last such tag wins; a closing tag
cut off by the token limit is tolerated). Anything else — no tag, `<score>3.5</score>`, `<score>7`,
an empty reply — is recorded with `score: null` and `status: "unparsable"` and counted: a score is
never guessed. A request that fails after its retries writes nothing and is retried on the next run.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter, iter_jsonl
from reasonembed.llm.base import LLM, ChatRequest
from reasonembed.records import Candidates, Query, validate_record
from reasonembed.remixer.common import (
    RunPaths,
    StageResult,
    domain_spec,
    domain_specs,
    load_documents,
    require,
    seed_of,
)
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.generate import provenance
from reasonembed.remixer.prompts import judge_messages

logger = logging.getLogger(__name__)

_SCORE = re.compile(r"<score>\s*([^<]*?)\s*(?:</score>|\Z)", re.IGNORECASE)


def parse_score(text: str) -> int | None:
    """The integer 1–5 in the last `<score>` tag, or None when there is none or it is not 1–5."""
    matches = _SCORE.findall(text or "")
    if not matches:
        return None
    value = matches[-1].strip()
    return int(value) if value in {"1", "2", "3", "4", "5"} else None


def pair_key(query_id: str, doc_id: str) -> str:
    return f"{query_id}\t{doc_id}"


def run_judge(config: SynthConfig, llm: LLM, queries: str | Path | None = None, candidates: str | Path | None = None,
              corpus: str | Path | None = None, out: str | Path | None = None) -> StageResult:
    """Write `judge/judgements.jsonl` (Judgement contract) for every pair not yet judged."""
    start = time.perf_counter()
    paths = RunPaths.of(config)
    qpath = require(Path(queries) if queries else paths.queries, "generate")
    cpath = require(Path(candidates) if candidates else paths.candidates, "mine")
    docs = load_documents(require(Path(corpus) if corpus else paths.corpus, "clean"), config.domain)
    output = Path(out) if out else paths.judgements
    qs = {q.id: q for q in (validate_record(r, Query, qpath, n) for n, r in iter_jsonl(qpath))}
    specs = domain_specs(config)
    sampling = config.judge.sampling.params()
    pairs: list[tuple[str, str]] = []
    for line, rec in iter_jsonl(cpath):
        cands = validate_record(rec, Candidates, cpath, line)
        if cands.query_id not in qs:
            continue
        limit = config.judge.max_candidates
        for cand in cands.candidates[: limit if limit is not None else None]:
            pairs.append((cands.query_id, cand.doc_id))
    counts: Counter[str] = Counter(pairs=len(pairs))
    with ResumableJsonlWriter(output, key=lambda r: pair_key(r["query_id"], r["doc_id"])) as writer:

        def todo() -> Iterator[ChatRequest]:
            for qid, doc_id in pairs:
                if writer.done(pair_key(qid, doc_id)):
                    continue
                query = qs[qid]
                text = docs[doc_id].text[: config.judge.max_doc_chars]
                messages = judge_messages(domain_spec(config, query.domain, specs), query.query, text)
                yield ChatRequest((qid, doc_id), messages, sampling, seed_of(qid, doc_id, "judge"))

        pending = sum(1 for q, d in pairs if not writer.done(pair_key(q, d)))
        counts["skipped_done"] = len(pairs) - pending
        for request, result in tqdm(llm.map(todo()), total=pending, desc="judge"):
            qid, doc_id = request.key
            if not result.ok:
                counts["llm_failed"] += 1
                continue
            score = parse_score(result.text)
            counts["unparsable" if score is None else f"score_{score}"] += 1
            writer.write({"query_id": qid, "doc_id": doc_id, "score": score, "status": "ok" if score else "unparsable",
                          "rationale": result.text, "provenance": provenance(llm, sampling.to_dict(), request.seed, "judge")})
            counts["written"] += 1
    return StageResult("judge", output, dict(counts), time.perf_counter() - start)
