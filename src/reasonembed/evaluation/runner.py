"""Evaluate any searcher on any registered benchmark, scored the way BRIGHT scores it.

Why one entry point: the quickstart, the trainer's periodic evaluation and `reasonembed eval`
must produce the same numbers, so they all call `evaluate`:

    from reasonembed.evaluation.runner import evaluate

    results = evaluate(
        "minilm",              # a SearcherFactory (evaluation/systems.py), or a model spec:
                               # "bm25" | "bm25q" | "minilm" | a model dir / hub id | an Embedder
        dataset,               # "bright" | "r2med" | a local folder | an EvalDataset
        tasks=None,            # subset of task names (None = all)
        query_variant="examples",   # or a BRIGHT "*_reason" variant
        instruction="auto",    # "auto" = the benchmark's per-task instruction, else the model's own;
                               # None = none; a string = the same for every task; a dict = per task
        out_dir=None,          # if set: results.json, results.md and runs/<task>.trec
        hybrid=None,           # "bm25" | "bm25q" | a model: fuse with a second system
        fusion="rrf",          # "rrf" | "score"
        wrappers=(),           # (searcher, task) -> searcher, applied per task (rewriting, reranking)
    )
    results["tasks"]["biology"]["metrics"]["ndcg@10"]     # fraction in [0, 1]
    results["average"]["ndcg@10"]                        # macro average over tasks
    results["groups"]["StackExchange"]["ndcg@10"]        # BRIGHT sub-averages, when complete

More keyword-only options: `benchmark` (registry entry; default inferred from the dataset),
`self_exclude` (override the benchmark's query-id self-exclusion), `lenient` (warn about qrels
naming missing documents), `long_documents`, `top_k` (1000), `cache_dir` (the embedding cache),
`batch_size`, Embedder settings for a model given by name (`pooling`, `dtype`,
`max_query_length`, `max_doc_length`, `device`), `backend` ("auto" | "numpy" | "faiss"),
`fusion_depth`, `distributed` (shard corpus encoding across torchrun ranks), `show_progress`.
The returned dict is exactly what results.json holds. `rescore(run, dataset)` scores an
existing TREC run file (or folder of `<task>.trec`) with the same core.

Protocol (METHOD.md B.3-B.5): each task's Searcher ranks the whole corpus; the benchmark's
exclusion rule removes ids before ranking ("N/A" ignored); top 1000 kept; ties ordered as
trec_eval orders them; metrics from pytrec_eval; task score = mean over queries; headline =
the benchmark's aggregation (macro mean, plus BRIGHT's group means).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasonembed import __version__
from reasonembed.errors import ConfigError
from reasonembed.evaluation.benchmarks import Benchmark, describe, get_benchmark
from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.metrics import K_VALUES, mean_metrics, score_run
from reasonembed.evaluation.systems import SearcherFactory, Wrapper, build_searcher_factory, wrap
from reasonembed.evaluation.tasks import EvalDataset, EvalTask
from reasonembed.retrieval.base import Hit, clean_excluded, sort_hits

log = logging.getLogger(__name__)
Run = dict[str, list[Hit]]


def resolve_instructions(
    instruction: Any, dataset: EvalDataset, model_default: str | None = None
) -> dict[str, str | None]:
    """Per-task instruction from the `instruction` argument (see module docstring). "auto" takes the
    benchmark's reference instruction for the task, else the model's own saved instruction."""
    bench = get_benchmark(dataset.benchmark)
    out: dict[str, str | None] = {}
    for task in dataset.tasks:
        if isinstance(instruction, str) and instruction == "auto":
            out[task] = bench.instruction(task, dataset.long_documents) or model_default
        elif isinstance(instruction, Mapping):
            out[task] = instruction.get(task) or None
        elif instruction is None or isinstance(instruction, str):
            out[task] = instruction or None
        else:
            raise ConfigError(
                f"instruction must be 'auto', None, a string or a dict, got {type(instruction).__name__}"
            )
    return out


def score_task(task: EvalTask, run: Run) -> dict[str, Any]:
    per_query = score_run(task.qrels, {q: {h.docid: h.score for h in hits} for q, hits in run.items()})
    return {
        "metrics": mean_metrics(per_query),
        "per_query": per_query,
        "num_queries": len(task.query_ids),
        "num_documents": len(task.doc_ids),
    }


def select_dataset(
    dataset: Any,
    tasks: Sequence[str] | None,
    query_variant: str,
    long_documents: bool,
    benchmark: str | None,
    lenient: bool,
) -> EvalDataset:
    """Load `dataset` (or check and subset an already loaded one)."""
    if not isinstance(dataset, EvalDataset):
        return load_eval_dataset(
            dataset, tasks, query_variant, long_documents, benchmark=benchmark, lenient=lenient
        )
    if query_variant not in ("examples", dataset.query_variant) or (long_documents and not dataset.long_documents):
        raise ConfigError(
            f"dataset {dataset.name} was loaded with query variant {dataset.query_variant!r} and "
            f"long_documents={dataset.long_documents}; load it again for other settings"
        )
    chosen = dict(dataset.tasks)
    if tasks:
        missing = [t for t in tasks if t not in dataset.tasks]
        if missing:
            raise ConfigError(f"tasks {missing} not in dataset {dataset.name}; have {sorted(dataset.tasks)}")
        chosen = {t: dataset.tasks[t] for t in tasks}
    return EvalDataset(
        dataset.name, dataset.kind, chosen, dataset.revision, dataset.source, dataset.query_variant,
        dataset.long_documents, benchmark or dataset.benchmark,
    )


def evaluate(
    searcher_factory: Any,
    dataset: Any,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    instruction: Any = "auto",
    out_dir: str | Path | None = None,
    *,
    benchmark: str | None = None,
    self_exclude: bool | None = None,
    lenient: bool = False,
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
    hybrid: str | None = None,
    fusion: str = "rrf",
    fusion_depth: int = 100,
    wrappers: Sequence[Wrapper] = (),
    distributed: bool = False,
    show_progress: bool = False,
) -> dict[str, Any]:
    """Evaluate a searcher factory (or a model spec) on `dataset`; returns the results.json dict."""
    data = select_dataset(dataset, tasks, query_variant, long_documents, benchmark, lenient)
    bench = get_benchmark(data.benchmark)
    factory: SearcherFactory = build_searcher_factory(
        searcher_factory, hybrid=hybrid, fusion=fusion, fusion_depth=fusion_depth, cache_dir=cache_dir,
        batch_size=batch_size, backend=backend, show_progress=show_progress, distributed=distributed,
        pooling=pooling, dtype=dtype, max_query_length=max_query_length, max_doc_length=max_doc_length,
        device=device,
    )
    instructions = resolve_instructions(instruction, data, factory.default_instruction)
    if not factory.uses_instruction and any(instructions.values()):
        log.info("%s ignores instructions", factory.describe().get("model"))
        instructions = {t: None for t in instructions}

    runs: dict[str, Run] = {}
    task_results: dict[str, Any] = {}
    for name, task in data.tasks.items():
        started = time.perf_counter()
        searcher = wrap(factory(task, instructions[name]), task, wrappers)
        excluded = bench.excluded(task, self_exclude)
        run = searcher.batch_search(task.query_texts, task.query_ids, top_k, excluded)
        info = dict(getattr(factory, "info", {}).get(name, {}))
        info["seconds"] = round(time.perf_counter() - started, 3)
        runs[name] = run
        task_results[name] = {**score_task(task, run), "instruction": instructions[name], **info}
        log.info("%s: nDCG@10 %.2f over %d queries", name, 100 * task_results[name]["metrics"]["ndcg@10"],
                 len(task.query_ids))
    model = factory.describe()
    if wrappers:
        model["wrappers"] = [w.describe() if hasattr(w, "describe") else getattr(w, "__name__", type(w).__name__)
                             for w in wrappers]
    return _finish(task_results, runs, data, bench, model, instructions, top_k, self_exclude, out_dir)


def rescore(
    run_path: str | Path,
    dataset: Any,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    out_dir: str | Path | None = None,
    *,
    benchmark: str | None = None,
    self_exclude: bool | None = None,
    lenient: bool = False,
    long_documents: bool = False,
    top_k: int = 1000,
) -> dict[str, Any]:
    """Score an existing TREC run against `dataset`'s qrels with the same protocol: the
    benchmark's excluded ids dropped, trec_eval's order, top `top_k` kept.

    `run_path` is a run file (a one-task dataset) or a folder of `<task>.trec` files.
    """
    from reasonembed.evaluation.report import read_trec_run

    data = select_dataset(dataset, tasks, query_variant, long_documents, benchmark, lenient)
    bench = get_benchmark(data.benchmark)
    path = Path(run_path)
    files = {t: path / f"{t}.trec" for t in data.tasks} if path.is_dir() else {}
    if not path.is_dir():
        if len(data.tasks) != 1:
            raise ConfigError(f"{path}: one run file for {len(data.tasks)} tasks; pass a folder of <task>.trec files")
        files = {next(iter(data.tasks)): path}
    runs: dict[str, Run] = {}
    task_results: dict[str, Any] = {}
    for name, task in data.tasks.items():
        if not files[name].exists():
            raise FileNotFoundError(f"{files[name]}: no run file for task {name!r}")
        raw = read_trec_run(files[name])
        excluded = bench.excluded(task, self_exclude)
        run: Run = {}
        for qid in task.query_ids:
            drop = clean_excluded(excluded.get(qid))
            hits = [Hit(d, s) for d, s in raw.get(qid, {}).items() if d not in drop]
            run[qid] = sort_hits(hits)[:top_k]
        runs[name] = run
        task_results[name] = {**score_task(task, run), "instruction": None, "run_file": str(files[name])}
    model = {"model": path.name, "kind": "run", "run": str(path)}
    return _finish(task_results, runs, data, bench, model, {t: None for t in data.tasks}, top_k, self_exclude, out_dir)


def _finish(
    task_results: dict[str, Any],
    runs: dict[str, Run],
    data: EvalDataset,
    bench: Benchmark,
    model: dict[str, Any],
    instructions: dict[str, str | None],
    top_k: int,
    self_exclude: bool | None,
    out_dir: str | Path | None,
) -> dict[str, Any]:
    from reasonembed.encoding import is_main_process

    average, groups = bench.aggregate({t: r["metrics"] for t, r in task_results.items()})
    results = {
        "manifest": _manifest(model, data, bench, instructions, top_k, self_exclude),
        "average": average,
        "groups": groups,
        "tasks": task_results,
    }
    if out_dir is not None and is_main_process():
        from reasonembed.evaluation.report import write_report

        write_report(results, runs, out_dir)
    return results


def _manifest(
    model: dict[str, Any],
    data: EvalDataset,
    bench: Benchmark,
    instructions: dict[str, str | None],
    top_k: int,
    self_exclude: bool | None,
) -> dict[str, Any]:
    from reasonembed.config import provenance_stamp

    own = bench.self_exclude if self_exclude is None else self_exclude
    return {
        "model": model,
        "dataset": {
            "name": data.name,
            "kind": data.kind,
            "source": data.source,
            "revision": data.revision,
            "tasks": list(data.tasks),
            "query_variant": data.query_variant,
            "long_documents": data.long_documents,
        },
        "benchmark": describe(bench, self_exclude=own),
        "query_variant": data.query_variant,
        "instructions": instructions,
        "protocol": {
            "top_k": top_k,
            "excluded_ids": "removed before ranking ('N/A' ignored)"
            + ("; a hit whose docid equals the query id is dropped" if own else ""),
            "ties": "score desc, then docid desc (trec_eval)",
            "scorer": "pytrec_eval",
            "k_values": list(K_VALUES),
            "aggregate": "mean over queries, macro mean over tasks",
        },
        "package_version": __version__,
        "provenance": provenance_stamp(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
