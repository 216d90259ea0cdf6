"""Score every system of the quickstart on every query set, through the project's evaluation code.

Why here and not in `evaluation/`: the quickstart compares systems side by side (BM25, the base
model with and without the task instruction, a BM25+dense hybrid, and each trained model) on three
query sets, and needs per-query scores to say with confidence what improved. Everything that
touches a score — dataset loading and validation, exclusion of `excluded_ids`, ranking, pytrec_eval
— is `reasonembed.evaluation` and `reasonembed.retrieval`; this module only loops and fuses.

Hybrid = reciprocal-rank (or normalised-score) fusion of the BM25 run and the dense run of the base
model, each cut to its top 100 (`retrieval.fusion`); excluded ids are already out of both runs.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonembed.evaluation.datasets import EvalDataset, EvalTask, load_eval_dataset
from reasonembed.retrieval.base import Hit


@dataclass
class System:
    """A row of the results table: BM25 ("bm25"), an Embedder or model dir, or a fusion of two rows."""

    name: str
    model: Any = None  # "bm25" | model dir | Embedder; None for a hybrid
    instructed: bool = False  # prefix queries with the column's task instruction (else the raw query)
    hybrid_of: tuple[str, str] | None = None  # names of two earlier systems to fuse


class RunSearcher:
    """A finished run seen as a `Searcher`, so the fusion classes can merge two runs."""

    def __init__(self, run: Mapping[str, list[Hit]]):
        self.run = run

    def search(self, query: str, k: int = 10) -> list[Hit]:  # pragma: no cover - protocol only
        raise NotImplementedError("RunSearcher answers only the queries of its run (batch_search)")

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[Hit]]:
        return {q: self.run.get(q, [])[:k] for q in qids}


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
    """{system: {column: {"metrics", "per_query", "num_queries", "num_documents", "instruction"}}}.

    `instructions` maps a column to its task instruction, used by systems with `instructed=True`.
    """
    instructions = instructions or {}
    from reasonembed.evaluation.runner import load_model, retrieve_task, score_task
    from reasonembed.retrieval.fusion import fuse

    results: dict[str, dict[str, dict[str, Any]]] = {}
    runs: dict[tuple[str, str], dict[str, list[Hit]]] = {}
    for system in systems:
        model = None if system.hybrid_of else load_model(system.model, batch_size=batch_size)
        results[system.name] = {}
        for col, dataset in columns.items():
            (task,) = dataset.tasks.values()
            if system.hybrid_of:
                a, b = (RunSearcher(runs[(name, col)]) for name in system.hybrid_of)
                run = fuse(a, b, fusion, depth=depth).batch_search(task.query_texts, task.query_ids, depth, task.excluded)
                info: dict[str, Any] = {"fusion": fusion, "of": list(system.hybrid_of), "depth": depth}
            else:
                instruction = instructions.get(col) if system.instructed else None
                run, info = retrieve_task(model, task, instruction, cache_dir=cache_dir, batch_size=batch_size)
                info["instruction"] = instruction
            runs[(system.name, col)] = run
            results[system.name][col] = {**score_task(task, run), **info}
            if log:
                log(f"  {system.name} on {col}: nDCG@10 {100 * results[system.name][col]['metrics']['ndcg@10']:.1f}")
    return results
