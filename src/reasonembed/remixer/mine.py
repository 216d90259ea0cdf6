"""Stage 2, `mine`: top-k candidates per query from the same-domain pool, source removed (METHOD §2.2).

C_q = Top-k{ φ(q, d) | d ∈ D_domain \\ {d*_q} }: queries and the whole same-domain corpus (minus
decontaminated documents; `mine.pool`, see common.pool_documents) are embedded
with any Embedder (default: the bundled all-MiniLM-L6-v2; the paper used gte-Qwen2-7B-instruct with
the domain instruction) and searched exactly by inner product (= cosine on normalised vectors).
The **source document is always removed** — a query is trivially tied to the text it was written
from, so it must never become a positive — and documents whose text equals the query are skipped.
The released code pads short lists with random documents; we do not (fewer candidates, never noise).

Document vectors go through the project's one embedding cache (`mine/embedding-cache/`, keyed on the
embedder fingerprint and the pool's content) and are ranked by the one exact top-k core
(`retrieval.dense`, ties by docid as trec_eval orders them), so a resumed run does not re-encode the pool; queries are processed in chunks and written as each chunk finishes.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from tqdm import tqdm

from reasonembed.io import ResumableJsonlWriter, iter_jsonl
from reasonembed.records import Query, validate_record
from reasonembed.remixer import dedup
from reasonembed.remixer.common import RunPaths, StageResult, pool_documents, require
from reasonembed.remixer.config import SynthConfig

logger = logging.getLogger(__name__)
CHUNK = 512


class EmbedderLike(Protocol):
    def encode_queries(self, queries: list[str], instruction: str | None = None) -> np.ndarray: ...
    def encode_documents(self, docs: list[str]) -> np.ndarray: ...


def mining_embedder(config: SynthConfig) -> Any:
    from reasonembed.embedder import Embedder

    m = config.mine
    return Embedder(m.embedder, pooling=m.pooling, max_query_length=m.max_length, max_doc_length=m.max_length,
                    dtype=m.dtype, batch_size=m.batch_size)


def _describe(embedder: Any) -> dict[str, Any]:
    info = embedder.describe() if hasattr(embedder, "describe") else {"class": type(embedder).__name__}
    if hasattr(embedder, "fingerprint"):
        info = {**info, "fingerprint": embedder.fingerprint}
    return info


def _doc_vectors(embedder: Any, ids: list[str], texts: list[str], cache_dir: Path, domain: str, fp: str | None) -> np.ndarray:
    from reasonembed.encoding import encode_corpus
    from reasonembed.evaluation.tasks import corpus_hash

    if not fp:
        return encode_corpus(embedder, texts)[0]
    return encode_corpus(embedder, texts, corpus_key=corpus_hash(ids, texts), cache_dir=cache_dir / "embedding-cache",
                         fingerprint=fp, meta={"stage": "mine", "domain": domain})[0]


def select_candidates(hits: list[tuple[str, float]], source_id: str, query_norm: str, doc_norm: dict[str, str],
                      top_k: int) -> list[dict[str, Any]]:
    """Drop the source document and documents identical to the query; keep the best `top_k`."""
    out = []
    for doc_id, score in hits:
        if doc_id == source_id or doc_norm[doc_id] == query_norm:
            continue
        out.append({"doc_id": doc_id, "score": round(float(score), 6)})
        if len(out) == top_k:
            break
    return out


def run_mine(config: SynthConfig, embedder: Any | None = None, queries: str | Path | None = None,
             corpus: str | Path | None = None, out: str | Path | None = None) -> StageResult:
    """Write `mine/candidates.jsonl` (Candidates contract) for every query not yet mined."""
    from reasonembed.retrieval.dense import DenseSearcher

    start = time.perf_counter()
    paths = RunPaths.of(config)
    qpath = require(Path(queries) if queries else paths.queries, "generate")
    docs = pool_documents(config, corpus)
    output = Path(out) if out else paths.candidates
    all_queries = [validate_record(r, Query, qpath, line) for line, r in iter_jsonl(qpath)]
    counts: Counter[str] = Counter(queries=len(all_queries))
    with ResumableJsonlWriter(output, key=lambda r: r["query_id"]) as writer:
        todo = [q for q in all_queries if not writer.done(q.id)]
        counts["skipped_done"] = len(all_queries) - len(todo)
        if not todo:
            return StageResult("mine", output, dict(counts), time.perf_counter() - start)
        embedder = embedder or mining_embedder(config)
        info = _describe(embedder)
        prov = {"stage": "mine", "embedder": info, "top_k": config.mine.top_k, "search_k": config.mine.search_k,
                "use_instruction": config.mine.use_instruction, "source_removed": True}
        doc_norm = {d.id: dedup.normalize(d.text) for d in docs.values()}
        by_domain: dict[str, list[Query]] = {}
        for q in todo:
            by_domain.setdefault(q.domain, []).append(q)
        for domain, qs in sorted(by_domain.items()):
            pool = sorted(d.id for d in docs.values() if d.domain == domain)
            if not pool:
                counts["no_pool"] += len(qs)
                continue
            vectors = _doc_vectors(embedder, pool, [docs[i].text for i in pool], output.parent, domain, info.get("fingerprint"))
            index = DenseSearcher(pool, vectors)
            k = min(len(pool), max(config.mine.search_k, config.mine.top_k + 2))
            for s in tqdm(range(0, len(qs), CHUNK), desc=f"mine {domain}"):
                chunk = qs[s:s + CHUNK]
                instruction = chunk[0].instruction if config.mine.use_instruction else None
                qvec = np.asarray(embedder.encode_queries([q.query for q in chunk], instruction=instruction), dtype=np.float32)
                ranked = index.search_embeddings(qvec, [q.id for q in chunk], k)
                for q in chunk:
                    hits = [(h.docid, h.score) for h in ranked[q.id]]
                    cands = select_candidates(hits, q.source_id, dedup.normalize(q.query), doc_norm, config.mine.top_k)
                    writer.write({"query_id": q.id, "candidates": cands, "provenance": prov})
                    counts["written"] += 1
                    counts["candidates"] += len(cands)
    return StageResult("mine", output, dict(counts), time.perf_counter() - start)
