"""Retrieval metrics through pytrec_eval, aggregated the way BRIGHT reports them.

Why pytrec_eval and nothing home-made: it is trec_eval itself (linear gain, ties broken by
score descending then docno descending), the tool BRIGHT's official harness calls, so a number
here is the number the official harness gives for the same run.

* `score_run(qrels, run)` -> per-query metrics: nDCG@{1,5,10,25,50,100}, Recall@{same},
  P@{same}, MAP (uncut), MAP@100 (trec_eval `map_cut.100`), MRR.
  A query with qrels but no run scores 0 on every metric (trec_eval `-c`); BRIGHT's runs cover
  every query, so this only matters for empty rankings.
* `mean_metrics(per_query)` -> the task score: arithmetic mean over queries.
* `macro_average(tasks)` -> unweighted mean over tasks (BRIGHT's headline).
* `group_averages(tasks, groups)` -> BRIGHT's StackExchange / Coding / Theorem-based averages,
  reported only for groups whose tasks were all evaluated.

Metric names: `ndcg@10`, `recall@100`, `p@10`, `map`, `map@100`, `mrr`; values are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

K_VALUES: tuple[int, ...] = (1, 5, 10, 25, 50, 100)


def metric_names(k_values: Sequence[int] = K_VALUES) -> list[str]:
    return (
        [f"ndcg@{k}" for k in k_values]
        + [f"recall@{k}" for k in k_values]
        + [f"p@{k}" for k in k_values]
        + ["map", "map@100", "mrr"]
    )


def _trec_measures(k_values: Sequence[int]) -> dict[str, str]:
    """pytrec_eval output key -> our metric name."""
    names = {f"ndcg_cut_{k}": f"ndcg@{k}" for k in k_values}
    names.update({f"recall_{k}": f"recall@{k}" for k in k_values})
    names.update({f"P_{k}": f"p@{k}" for k in k_values})
    names.update({"map": "map", "map_cut_100": "map@100", "recip_rank": "mrr"})
    return names


def score_run(
    qrels: Mapping[str, Mapping[str, int]],
    run: Mapping[str, Mapping[str, float]],
    k_values: Sequence[int] = K_VALUES,
) -> dict[str, dict[str, float]]:
    """Per-query metrics for every query in `qrels` (queries absent from `run` score 0)."""
    import pytrec_eval

    ks = ",".join(str(k) for k in k_values)
    measures = {f"ndcg_cut.{ks}", f"recall.{ks}", f"P.{ks}", "map", "map_cut.100", "recip_rank"}
    evaluator = pytrec_eval.RelevanceEvaluator(
        {q: {d: int(g) for d, g in docs.items()} for q, docs in qrels.items()}, measures
    )
    scored = evaluator.evaluate(
        {q: {d: float(s) for d, s in docs.items()} for q, docs in run.items() if docs}
    )
    rename = _trec_measures(k_values)
    out: dict[str, dict[str, float]] = {}
    for qid in qrels:
        raw = scored.get(qid)
        out[qid] = {ours: (float(raw[theirs]) if raw else 0.0) for theirs, ours in rename.items()}
    return out


def mean_metrics(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Arithmetic mean over queries of each metric."""
    if not per_query:
        return {}
    names = next(iter(per_query.values())).keys()
    n = len(per_query)
    return {m: sum(q[m] for q in per_query.values()) / n for m in names}


def macro_average(task_metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Unweighted mean over tasks (every task counts once, whatever its number of queries)."""
    if not task_metrics:
        return {}
    names = next(iter(task_metrics.values())).keys()
    return {m: sum(t[m] for t in task_metrics.values()) / len(task_metrics) for m in names}


def group_averages(
    task_metrics: Mapping[str, Mapping[str, float]], groups: Mapping[str, Sequence[str]]
) -> dict[str, dict[str, float]]:
    """Macro average per group, for the groups whose tasks are all present."""
    return {
        group: macro_average({t: task_metrics[t] for t in members})
        for group, members in groups.items()
        if members and all(t in task_metrics for t in members)
    }
