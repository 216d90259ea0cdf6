"""Run a model (or BM25) over an evaluation dataset and score it the way BRIGHT does.

Why one entry point: the quickstart, the trainer's periodic evaluation and `reasonembed eval`
must produce the same numbers, so they all call `evaluate`:

    from reasonembed.evaluation.runner import evaluate

    results = evaluate(
        model,                 # "bm25" | "bm25q" | a model dir / hub id | "minilm" | an Embedder
        dataset,               # "bright" | "r2med" | a local folder | an EvalDataset
        tasks=None,            # subset of task names (None = all)
        query_variant="examples",   # or a BRIGHT "*_reason" variant
        instruction="auto",    # "auto" = per-task reference instruction (BRIGHT/R2MED), None = none,
                               # a string = the same for every task, a dict = per task
        out_dir=None,          # if set: results.json, results.md and runs/<task>.trec
    )
    results["tasks"]["biology"]["metrics"]["ndcg@10"]     # fraction in [0, 1]
    results["average"]["ndcg@10"]                        # macro average over tasks
    results["groups"]["StackExchange"]["ndcg@10"]        # BRIGHT sub-averages, when complete

Keyword-only options: `long_documents`, `top_k` (1000), `cache_dir` (document-embedding cache,
see cache.py), `batch_size`, and for a model given by name `pooling`, `dtype`,
`max_query_length`, `max_doc_length`, `device`; `backend` ("auto" | "numpy" | "faiss");
`show_progress`. The returned dict is exactly what results.json holds (this signature and the
keys above are stable).

Protocol (METHOD.md B.3-B.5): exhaustive scoring over each task's corpus, each query's
`excluded_ids` removed before ranking ("N/A" ignored), top 1000 kept, ties ordered as trec_eval
orders them, metrics from pytrec_eval, task score = mean over queries, headline = macro mean.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed import __version__
from reasonembed.errors import ConfigError
from reasonembed.evaluation.datasets import BRIGHT_TASK_GROUPS, EvalDataset, EvalTask, load_eval_dataset
from reasonembed.evaluation.instructions import default_instruction
from reasonembed.evaluation.metrics import K_VALUES, group_averages, macro_average, mean_metrics, score_run
from reasonembed.retrieval.base import Hit

log = logging.getLogger(__name__)
BM25_MODELS = {"bm25": "classic", "bm25q": "bm25q"}
ENCODE_CHUNK = 32_768
Run = dict[str, list[Hit]]


def resolve_instructions(
    instruction: Any, dataset: EvalDataset, model_default: str | None = None
) -> dict[str, str | None]:
    """Per-task instruction from the `instruction` argument (see module docstring). "auto" takes the
    reference instruction of a known BRIGHT/R2MED task, else the model's own saved instruction."""
    out: dict[str, str | None] = {}
    for task in dataset.tasks:
        if isinstance(instruction, str) and instruction == "auto":
            out[task] = default_instruction(dataset.benchmark, task, dataset.long_documents) or model_default
        elif isinstance(instruction, Mapping):
            out[task] = instruction.get(task) or None
        elif instruction is None or isinstance(instruction, str):
            out[task] = instruction or None
        else:
            raise ConfigError(
                f"instruction must be 'auto', None, a string or a dict, got {type(instruction).__name__}"
            )
    return out


def load_model(
    model: Any,
    *,
    pooling: str | None = None,
    dtype: str = "fp32",
    max_query_length: int | None = None,
    max_doc_length: int | None = None,
    batch_size: int | None = None,
    device: str | None = None,
) -> Any:
    """BM25 names ("bm25", "bm25q") stay strings; a name/path (or "minilm" = the bundled model)
    becomes an Embedder; an Embedder instance passes through unchanged."""
    if isinstance(model, str) and model.lower() in BM25_MODELS:
        return model.lower()
    if not isinstance(model, (str, Path)) and model is not None:
        return model  # an Embedder (or anything with encode_queries / encode_documents / fingerprint)
    from reasonembed.embedder import Embedder

    name = None if model is None or str(model).lower() in ("minilm", "default") else str(model)
    kwargs: dict[str, Any] = {
        "pooling": pooling,
        "dtype": dtype,
        "max_query_length": max_query_length,
        "max_doc_length": max_doc_length,
        "device": device,
    }
    if batch_size:
        kwargs["batch_size"] = batch_size
    return Embedder(name, **kwargs)


def _encode_corpus(
    embedder: Any,
    task: EvalTask,
    cache_dir: str | Path | None,
    batch_size: int | None,
    show_progress: bool,
    fingerprint: str,
) -> tuple[Any, bool]:
    from reasonembed.evaluation.cache import EmbeddingCache

    cache = EmbeddingCache(cache_dir) if cache_dir else None
    corpus_hash = task.corpus_hash() if cache else ""
    if cache:
        hit = cache.load(fingerprint, corpus_hash, len(task.doc_ids))
        if hit is not None:
            log.info("%s: %d document embeddings from cache", task.name, len(task.doc_ids))
            return hit, True
    # Encode in chunks so the tokenised corpus never sits in memory whole (BRIGHT: up to 414K docs).
    parts = [
        embedder.encode_documents(
            task.doc_texts[start : start + ENCODE_CHUNK], batch_size=batch_size, show_progress=show_progress
        )
        for start in range(0, len(task.doc_texts), ENCODE_CHUNK)
    ]
    emb = np.concatenate(parts) if len(parts) > 1 else parts[0]
    if cache:
        cache.save(fingerprint, corpus_hash, emb, {"task": task.name, "source": task.source})
    return emb, False


def retrieve_task(
    model: Any,
    task: EvalTask,
    instruction: str | None,
    *,
    top_k: int = 1000,
    cache_dir: str | Path | None = None,
    batch_size: int | None = None,
    backend: str = "auto",
    show_progress: bool = False,
    fingerprint: str | None = None,
) -> tuple[Run, dict[str, Any]]:
    """Rank the task's corpus for every query; returns the run and timing/cache facts."""
    started = time.perf_counter()
    info: dict[str, Any] = {}
    if isinstance(model, str):
        from reasonembed.retrieval.bm25 import BM25Searcher

        searcher = BM25Searcher(task.doc_ids, task.doc_texts, BM25_MODELS[model], show_progress=show_progress)
        run = searcher.batch_search(task.query_texts, task.query_ids, top_k, task.excluded, show_progress)
    else:
        from reasonembed.retrieval.dense import DenseSearcher

        doc_emb, info["cache_hit"] = _encode_corpus(
            model, task, cache_dir, batch_size, show_progress, fingerprint or model.fingerprint
        )
        q_emb = model.encode_queries(
            task.query_texts,
            instruction=instruction or "",
            batch_size=batch_size,
            show_progress=show_progress,
        )
        searcher = DenseSearcher(task.doc_ids, doc_emb, backend=backend)
        run = searcher.search_embeddings(q_emb, task.query_ids, top_k, task.excluded)
        info["backend"] = searcher.backend
    info["seconds"] = round(time.perf_counter() - started, 3)
    return run, info


def score_task(task: EvalTask, run: Run) -> dict[str, Any]:
    per_query = score_run(task.qrels, {q: {h.docid: h.score for h in hits} for q, hits in run.items()})
    return {
        "metrics": mean_metrics(per_query),
        "per_query": per_query,
        "num_queries": len(task.query_ids),
        "num_documents": len(task.doc_ids),
    }


def _model_manifest(model: Any, fingerprint: str | None, described: dict[str, Any]) -> dict[str, Any]:
    if isinstance(model, str):
        from reasonembed.retrieval.bm25 import BM25Searcher

        defaults = BM25Searcher.DEFAULTS[BM25_MODELS[model]]
        return {
            "model": model,
            "kind": "bm25",
            "variant": BM25_MODELS[model],
            **defaults,
            "tokenizer": "lower \\w+ (rank_bm25 Okapi)" if model == "bm25" else "lucene-like + porter",
        }
    return {"model": type(model).__name__, **described, "fingerprint": fingerprint, "kind": "dense"}


def evaluate(
    model: Any,
    dataset: Any,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    instruction: Any = "auto",
    out_dir: str | Path | None = None,
    *,
    long_documents: bool = False,
    top_k: int = 1000,
    cache_dir: str | Path | None = None,
    batch_size: int | None = None,
    pooling: str | None = None,
    dtype: str = "fp32",
    max_query_length: int | None = None,
    max_doc_length: int | None = None,
    device: str | None = None,
    backend: str = "auto",
    show_progress: bool = False,
) -> dict[str, Any]:
    """Evaluate `model` on `dataset`; see the module docstring. Returns the results.json dict."""
    if isinstance(dataset, EvalDataset):
        if query_variant not in ("examples", dataset.query_variant) or (
            long_documents and not dataset.long_documents
        ):
            raise ConfigError(
                f"dataset {dataset.name} was loaded with query variant {dataset.query_variant!r} and "
                f"long_documents={dataset.long_documents}; load it again for other settings"
            )
        if tasks:
            missing = [t for t in tasks if t not in dataset.tasks]
            if missing:
                raise ConfigError(
                    f"tasks {missing} not in dataset {dataset.name}; have {sorted(dataset.tasks)}"
                )
            dataset = EvalDataset(
                dataset.name,
                dataset.kind,
                {t: dataset.tasks[t] for t in tasks},
                dataset.revision,
                dataset.source,
                dataset.query_variant,
                dataset.long_documents,
            )
    else:
        dataset = load_eval_dataset(dataset, tasks, query_variant, long_documents)
    model = load_model(
        model,
        pooling=pooling,
        dtype=dtype,
        max_query_length=max_query_length,
        max_doc_length=max_doc_length,
        batch_size=batch_size,
        device=device,
    )
    described = model.describe() if hasattr(model, "describe") and not isinstance(model, str) else {}
    fingerprint = None if isinstance(model, str) else (described.get("fingerprint") or model.fingerprint)
    instructions = resolve_instructions(instruction, dataset, getattr(model, "instruction", None) or None)
    if isinstance(model, str) and any(instructions.values()):
        log.info("BM25 ignores instructions")
        instructions = {t: None for t in instructions}

    task_results: dict[str, Any] = {}
    runs: dict[str, Run] = {}
    for name, task in dataset.tasks.items():
        run, info = retrieve_task(
            model,
            task,
            instructions[name],
            top_k=top_k,
            cache_dir=cache_dir,
            batch_size=batch_size,
            backend=backend,
            show_progress=show_progress,
            fingerprint=fingerprint,
        )
        runs[name] = run
        task_results[name] = {**score_task(task, run), "instruction": instructions[name], **info}
        log.info(
            "%s: nDCG@10 %.2f over %d queries",
            name,
            100 * task_results[name]["metrics"]["ndcg@10"],
            len(task.query_ids),
        )

    metrics_by_task = {t: r["metrics"] for t, r in task_results.items()}
    groups = group_averages(metrics_by_task, BRIGHT_TASK_GROUPS) if dataset.benchmark == "bright" else {}
    results = {
        "manifest": _manifest(
            model,
            fingerprint,
            described,
            dataset,
            dataset.query_variant,
            instructions,
            top_k,
            dataset.long_documents,
        ),
        "average": macro_average(metrics_by_task),
        "groups": groups,
        "tasks": task_results,
    }
    if out_dir is not None:
        from reasonembed.evaluation.report import write_report

        write_report(results, runs, out_dir)
    return results


def _manifest(
    model: Any,
    fingerprint: str | None,
    described: dict[str, Any],
    dataset: EvalDataset,
    query_variant: str,
    instructions: dict[str, str | None],
    top_k: int,
    long_documents: bool,
) -> dict[str, Any]:
    from reasonembed.config import provenance_stamp

    return {
        "model": _model_manifest(model, fingerprint, described),
        "dataset": {
            "name": dataset.name,
            "kind": dataset.kind,
            "source": dataset.source,
            "revision": dataset.revision,
            "tasks": list(dataset.tasks),
            "query_variant": dataset.query_variant,
            "long_documents": long_documents,
        },
        "query_variant": query_variant,
        "instructions": instructions,
        "protocol": {
            "top_k": top_k,
            "excluded_ids": "removed before ranking ('N/A' ignored)",
            "ties": "score desc, then docid desc (trec_eval)",
            "scorer": "pytrec_eval",
            "k_values": list(K_VALUES),
            "aggregate": "mean over queries, macro mean over tasks",
        },
        "package_version": __version__,
        "provenance": provenance_stamp(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
