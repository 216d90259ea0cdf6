"""Compare retrieval systems side by side: every system on every dataset, and what differs with confidence.

    systems = [System("BM25", "bm25"), System("base", "minilm"), System("tuned", "runs/x/model", True),
               System("hybrid", hybrid_of=("base", "BM25"))]
    results = evaluate_systems(systems, {"dev": dataset}, "cache/", {"dev": "Given a question, ..."})
    table, sentences = comparison_table(results, "base", ["tuned"])

Why a module: a difference of two averages says little on a hundred queries, so every "improved /
got worse" here comes from a paired bootstrap over the queries both systems answered (the
difference of their per-query scores, 95% percentile interval, `reasonembed.bootstrap`). Every cell
is one `evaluation.runner.evaluate` call over the searcher factories of `evaluation.systems`, so
loading, exclusion of `excluded_ids`, ranking, fusion and pytrec_eval are the ones `reasonembed
eval` uses. A hybrid fuses two earlier systems, each side cut to `depth` hits.

Results are plain dicts: {system: {dataset: {"metrics", "per_query", "num_queries", ...}}}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.bootstrap import bootstrap_ci95
from reasonembed.evaluation.tasks import EvalDataset

Results = Mapping[str, Mapping[str, Mapping[str, Any]]]


@dataclass
class System:
    """A row of the comparison: BM25 ("bm25"), an Embedder or model dir, or a fusion of two earlier rows."""

    name: str
    model: Any = None  # "bm25" | "minilm" | model dir | Embedder | SearcherFactory; None for a hybrid
    instructed: bool = False  # prefix queries with the dataset's task instruction (else the raw query)
    hybrid_of: tuple[str, str] | None = None  # names of two earlier systems to fuse


def evaluate_systems(systems: Sequence[System], datasets: Mapping[str, EvalDataset], cache_dir: str | Path,
                     instructions: Mapping[str, str | None] | None = None, fusion: str = "rrf", depth: int = 100,
                     batch_size: int | None = None, log: Any = None) -> dict[str, dict[str, dict[str, Any]]]:
    """{system: {dataset key: the runner's result for its (single) task}}; `instructions` maps a dataset key
    to its task instruction, used by systems with `instructed=True` (a hybrid when either side is)."""
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
        for key, dataset in datasets.items():
            instruction = instructions.get(key) if instructed else None
            out = evaluate(factories[system.name], dataset, instruction=instruction,
                           top_k=depth if system.hybrid_of else 1000)
            (cell,) = out["tasks"].values()
            if system.hybrid_of:
                cell["of"] = list(system.hybrid_of)
            results[system.name][key] = cell
            if log:
                log(f"  {system.name} on {key}: nDCG@10 {100 * cell['metrics']['ndcg@10']:.1f}")
    return results


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], n: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean of per-query (a - b) over the queries both have, with a bootstrap 95% interval."""
    shared = sorted(set(a) & set(b))
    if not shared:
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0}
    diff = np.array([a[q] - b[q] for q in shared], dtype=float)
    lo, hi = bootstrap_ci95(lambda idx: diff[idx].mean(axis=1), diff.size, n, seed)
    return {"mean": float(diff.mean()), "lo": lo, "hi": hi, "n": int(diff.size)}


def verdict(diff: Mapping[str, float]) -> str:
    """"improved" / "got worse" when the interval excludes 0, else "no clear change"."""
    if diff["n"] == 0 or diff["mean"] != diff["mean"]:
        return "not measured"
    if diff["lo"] > 0:
        return "improved"
    if diff["hi"] < 0:
        return "got worse"
    return "no clear change"


def _pct(x: float | None) -> str:
    return "—" if x is None or x != x else f"{100 * x:.1f}"


def _keys(results: Results, labels: Mapping[str, str] | None) -> list[str]:
    seen = [k for per in results.values() for k in per]
    return [k for k in (labels or dict.fromkeys(seen)) if k in seen]


def score_table(results: Results, labels: Mapping[str, str] | None = None, metric: str = "ndcg@10") -> str:
    """Rows = systems, columns = datasets (named by `labels`, in its order); cells = metric x 100."""
    labels = labels or {}
    keys = _keys(results, labels)
    lines = ["| system | " + " | ".join(labels.get(k, k) for k in keys) + " |", "|---|" + "---|" * len(keys)]
    for system, per in results.items():
        lines.append(f"| {system} | " + " | ".join(_pct(per.get(k, {}).get("metrics", {}).get(metric)) for k in keys) + " |")
    return "\n".join(lines)


def compare(results: Results, base: str, systems: Sequence[str], labels: Mapping[str, str] | None = None,
            metric: str = "ndcg@10") -> list[tuple[str, str, dict[str, float]]]:
    """(system, dataset, paired difference to `base`) for every system and dataset both were scored on."""
    out = []
    for system in systems:
        for key in _keys(results, labels):
            a = results.get(system, {}).get(key, {}).get("per_query", {})
            b = results.get(base, {}).get(key, {}).get("per_query", {})
            if a and b:
                out.append((system, key, paired_difference({q: m[metric] for q, m in a.items()},
                                                           {q: m[metric] for q, m in b.items()})))
    return out


def comparison_sentence(system: str, label: str, d: Mapping[str, float]) -> str:
    return (f"- **{system}** on the {label} ({d['n']} queries): {verdict(d)} "
            f"({100 * d['mean']:+.1f} nDCG@10 points, 95% CI {100 * d['lo']:+.1f} … {100 * d['hi']:+.1f}).")


def comparison_table(results: Results, base: str, systems: Sequence[str], labels: Mapping[str, str] | None = None,
                     metric: str = "ndcg@10") -> tuple[str, list[str]]:
    """Per system and dataset: difference to `base` (points) with its 95% interval and verdict; plus sentences."""
    labels = labels or {}
    shown = {"ndcg@10": "nDCG@10"}.get(metric, metric)
    lines = [f"| system | query set | Δ {shown} vs {base} | 95% CI | verdict |", "|---|---|---|---|---|"]
    sentences = []
    for system, key, d in compare(results, base, systems, labels, metric):
        label = labels.get(key, key)
        lines.append(f"| {system} | {label} | {100 * d['mean']:+.1f} | {100 * d['lo']:+.1f} … {100 * d['hi']:+.1f} "
                     f"| {verdict(d)} |")
        sentences.append(comparison_sentence(system, label, d))
    return "\n".join(lines), sentences
