"""Score every system of the quickstart on every query set, through the project's evaluation code.

Why here and not in `evaluation/`: the quickstart compares systems side by side (BM25, the base
model with and without the task instruction, a BM25+dense hybrid, and each trained model) on three
query sets, and needs per-query scores to say with confidence what improved. Everything that
touches a score — dataset loading and validation, exclusion of `excluded_ids`, ranking, fusion,
pytrec_eval — is `reasonembed.evaluation.runner.evaluate` over searcher factories
(`evaluation/systems.py`); this module only names the systems and subsamples the query sets.

Hybrid = reciprocal-rank (or normalised-score) fusion of BM25 and the base model's dense search,
each side cut to its top 100 with excluded ids removed (`evaluation.systems.HybridFactory`).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.tasks import EvalDataset, EvalTask


@dataclass
class System:
    """A row of the results table: BM25 ("bm25"), an Embedder or model dir, or a fusion of two rows."""

    name: str
    model: Any = None  # "bm25" | "minilm" | model dir | Embedder | SearcherFactory; None for a hybrid
    instructed: bool = False  # prefix queries with the column's task instruction (else the raw query)
    hybrid_of: tuple[str, str] | None = None  # names of two earlier systems to fuse


def subsample_task(task: EvalTask, max_queries: int | None, max_docs: int | None, seed: int = 0) -> EvalTask:
    """First `max_queries` queries; every gold/excluded document of those plus a seeded sample of the rest."""
    if max_queries is None and max_docs is None:
        return task
    qids = task.query_ids[: max_queries or len(task.query_ids)]
    keep_q = set(qids)
    needed = {d for q in qids for d in task.qrels.get(q, {})} | {d for q in qids for d in task.excluded.get(q, [])}
    others = [d for d in task.doc_ids if d not in needed]
    room = max(0, (max_docs or len(task.doc_ids)) - len(needed))
    keep_d = needed | set(random.Random(seed).sample(others, min(room, len(others))))
    docs = [(d, t) for d, t in zip(task.doc_ids, task.doc_texts, strict=True) if d in keep_d]
    queries = [(q, t) for q, t in zip(task.query_ids, task.query_texts, strict=True) if q in keep_q]
    return EvalTask(
        name=task.name, doc_ids=[d for d, _ in docs], doc_texts=[t for _, t in docs],
        query_ids=[q for q, _ in queries], query_texts=[t for _, t in queries],
        qrels={q: dict(task.qrels[q]) for q in qids}, excluded={q: list(task.excluded.get(q, [])) for q in qids},
        source=task.source + f" (subsample: {len(queries)} queries, {len(docs)} documents)",
    )


def load_column(folder: str | Path, max_queries: int | None = None, max_docs: int | None = None,
                seed: int = 0) -> EvalDataset:
    dataset = load_eval_dataset(folder)
    if max_queries is None and max_docs is None:
        return dataset
    tasks = {n: subsample_task(t, max_queries, max_docs, seed) for n, t in dataset.tasks.items()}
    return EvalDataset(dataset.name, dataset.kind, tasks, dataset.revision, dataset.source,
                       dataset.query_variant, dataset.long_documents)


def evaluate_systems(systems: Sequence[System], columns: Mapping[str, EvalDataset], cache_dir: str | Path,
                     instructions: Mapping[str, str | None] | None = None, fusion: str = "rrf", depth: int = 100,
                     batch_size: int | None = None, log: Any = None) -> dict[str, dict[str, dict[str, Any]]]:
    """{system: {column: {"metrics", "per_query", "num_queries", "num_documents", "instruction", ...}}}.

    Every cell is one `reasonembed.evaluation.runner.evaluate` call. `instructions` maps a column
    to its task instruction, used by systems with `instructed=True`; a hybrid fuses the factories
    of two earlier systems (each side cut to `depth` hits, the fused list too).
    """
    from reasonembed.evaluation.runner import evaluate
    from reasonembed.evaluation.systems import HybridFactory, build_searcher_factory

    instructions = instructions or {}
    factories: dict[str, Any] = {}
    by_name = {s.name: s for s in systems}
    results: dict[str, dict[str, dict[str, Any]]] = {}
    for system in systems:
        if system.hybrid_of:
            first, second = system.hybrid_of
            factories[system.name] = HybridFactory(factories[first], factories[second], fusion, depth)
            instructed = any(by_name[n].instructed for n in system.hybrid_of)
        else:
            factories[system.name] = build_searcher_factory(system.model, cache_dir=cache_dir, batch_size=batch_size)
            instructed = system.instructed
        results[system.name] = {}
        for col, dataset in columns.items():
            instruction = instructions.get(col) if instructed else None
            out = evaluate(factories[system.name], dataset, instruction=instruction, top_k=depth if system.hybrid_of else 1000)
            (cell,) = out["tasks"].values()
            if system.hybrid_of:
                cell["of"] = list(system.hybrid_of)
            results[system.name][col] = cell
            if log:
                log(f"  {system.name} on {col}: nDCG@10 {100 * cell['metrics']['ndcg@10']:.1f}")
    return results
