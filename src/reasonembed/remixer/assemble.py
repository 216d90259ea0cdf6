"""Stage 5, `assemble`: judged candidates → training samples (METHOD §2.4, DESIGN "Training sample").

Score >= `pos_min_score` (3) is a positive, score <= `neg_max_score` (2) a hard negative, null scores
are ignored; a query without `min_pos` positives and `min_neg` negatives is dropped (counted by
reason). Positives are ordered by judge score then retriever score, negatives by retriever score
(hardest first). The source document is never a candidate (mine removes it); assemble re-checks.

Records are field-compatible with the published ReasonEmbed data (`prompt, query, reasoning_query,
pos, neg`) plus ids, scores and provenance. Unlike the LLM stages this one is a cheap pure function
of its inputs, so it rewrites `assemble/train.jsonl` atomically (temp file + rename) on every run:
a kill leaves the previous file intact, and new judgements are never mixed with stale samples.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from reasonembed.io import iter_jsonl, write_jsonl
from reasonembed.records import Candidates, Judgement, Query, TrainingSample, validate_record
from reasonembed.remixer.common import RunPaths, StageResult, pool_documents, require, stable_id
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.prompts import PROMPT_VERSION


def split_judged(judged: list[tuple[str, int, float]], cfg: Any) -> tuple[list[tuple[str, int, float]], list[tuple[str, int, float]]]:
    """(doc_id, score, retriever_score) triples → (positives, negatives), ordered and capped."""
    pos = sorted((j for j in judged if j[1] >= cfg.pos_min_score), key=lambda j: (-j[1], -j[2], j[0]))
    neg = sorted((j for j in judged if j[1] <= cfg.neg_max_score), key=lambda j: (-j[2], j[0]))
    return pos[: cfg.max_pos] if cfg.max_pos else pos, neg[: cfg.max_neg] if cfg.max_neg else neg


def run_assemble(config: SynthConfig, out: str | Path | None = None) -> StageResult:
    """Write `assemble/train.jsonl` (TrainingSample contract + ids and provenance)."""
    start = time.perf_counter()
    cfg, paths = config.assemble, RunPaths.of(config)
    output = Path(out) if out else paths.train
    docs = pool_documents(config)
    qpath, cpath, jpath = require(paths.queries, "generate"), require(paths.candidates, "mine"), require(paths.judgements, "judge")
    queries = [validate_record(r, Query, qpath, n) for n, r in iter_jsonl(qpath)]
    retr: dict[tuple[str, str], float] = {}
    mine_prov: dict[str, Any] = {}
    for n, r in iter_jsonl(cpath):
        cands = validate_record(r, Candidates, cpath, n)
        mine_prov = cands.provenance
        for c in cands.candidates:
            retr[(cands.query_id, c.doc_id)] = c.score
    judged: dict[str, list[tuple[str, int, float]]] = defaultdict(list)
    judge_model: str | None = None
    counts: Counter[str] = Counter(queries=len(queries))
    for n, r in iter_jsonl(jpath):
        j = validate_record(r, Judgement, jpath, n)
        judge_model = j.provenance.get("model", judge_model)
        if j.score is None:
            counts["null_scores_ignored"] += 1
            continue
        judged[j.query_id].append((j.doc_id, j.score, retr.get((j.query_id, j.doc_id), 0.0)))
    reasoning: dict[str, dict[str, Any]] = {}
    if config.reason.enabled and paths.reasoning.exists():
        reasoning = {r["query_id"]: r for _, r in iter_jsonl(paths.reasoning)}
    samples = []
    for q in queries:
        items = [j for j in judged.get(q.id, []) if j[0] != q.source_id]
        if len(items) != len(judged.get(q.id, [])):
            counts["source_doc_removed_again"] += 1
        if not items:
            counts["dropped_no_judgements"] += 1
            continue
        pos, neg = split_judged(items, cfg)
        r = reasoning.get(q.id)
        if len(pos) < cfg.min_pos:
            counts["dropped_no_positive"] += 1
        elif len(neg) < cfg.min_neg:
            counts["dropped_no_negative"] += 1
        elif cfg.require_reasoning_query and r is None:
            counts["dropped_no_reasoning_query"] += 1
        else:
            record = {
                "id": "s-" + stable_id(q.id, PROMPT_VERSION, config.seed), "query_id": q.id, "source_id": q.source_id,
                "domain": q.domain, "prompt": q.instruction, "query": q.query,
                "reasoning_query": r["reasoning_query"] if r else None,
                "pos": [docs[d].text for d, _, _ in pos], "neg": [docs[d].text for d, _, _ in neg],
                "pos_ids": [d for d, _, _ in pos], "neg_ids": [d for d, _, _ in neg],
                "pos_scores": [s for _, s, _ in pos], "neg_scores": [s for _, s, _ in neg],
                "provenance": {
                    "stage": "assemble", "prompt_version": PROMPT_VERSION, "seed": config.seed,
                    "thresholds": {"pos_min_score": cfg.pos_min_score, "neg_max_score": cfg.neg_max_score},
                    "generator": q.provenance, "judge_model": judge_model,
                    "reason_model": (r or {}).get("provenance", {}).get("model"),
                    "embedder": mine_prov.get("embedder", {}).get("model"),
                },
            }
            validate_record(record, TrainingSample, output)
            samples.append(record)
            counts["samples"] += 1
            counts["positives"] += len(pos)
            counts["negatives"] += len(neg)
            counts["without_reasoning_query"] += r is None
    write_jsonl(output, samples)
    return StageResult("assemble", output, dict(counts), time.perf_counter() - start)
