"""Metrics: hand-computed values, aggregation, and parity with a direct pytrec_eval run of BRIGHT's rules."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import pytrec_eval

from reasonembed.evaluation.benchmarks import BRIGHT_TASK_GROUPS
from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.metrics import (
    group_averages,
    macro_average,
    mean_metrics,
    metric_names,
    score_run,
)
from reasonembed.evaluation.report import read_trec_run
from reasonembed.evaluation.runner import evaluate


def test_hand_computed_ndcg_recall_map_mrr() -> None:
    qrels = {"q": {"a": 1, "c": 1}}
    run = {"q": {"x": 3.0, "a": 2.0, "y": 1.0, "c": 0.5}}  # relevant at ranks 2 and 4
    m = score_run(qrels, run)["q"]
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3)
    assert m["ndcg@10"] == pytest.approx(dcg / idcg, abs=1e-12)
    assert m["ndcg@1"] == 0.0 and m["recall@1"] == 0.0 and m["recall@5"] == 1.0
    assert m["mrr"] == pytest.approx(0.5) and m["map"] == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert set(m) == set(metric_names())


def test_map_at_100_and_precision_beside_uncut_map() -> None:
    # relevant at ranks 2 and 102 (99 non-relevant fillers in between): MAP@100 counts only rank 2
    run = {"q": {"x": 1000.0, "a": 999.0, **{f"f{i:03d}": 998.0 - i for i in range(99)}, "c": 1.0}}
    m = score_run({"q": {"a": 1, "c": 1}}, run)["q"]
    assert m["map@100"] == pytest.approx((1 / 2) / 2)
    assert m["map"] == pytest.approx((1 / 2 + 2 / 102) / 2)
    assert m["p@1"] == 0.0 and m["p@5"] == pytest.approx(1 / 5) and m["p@100"] == pytest.approx(1 / 100)


def test_ties_follow_trec_eval_docid_descending() -> None:
    # equal scores: trec_eval ranks docid "b" before "a", so the relevant "a" sits at rank 2
    m = score_run({"q": {"a": 1}}, {"q": {"a": 1.0, "b": 1.0}})["q"]
    assert m["mrr"] == pytest.approx(0.5)


def test_query_without_run_scores_zero_and_counts() -> None:
    per_query = score_run({"q1": {"a": 1}, "q2": {"b": 1}}, {"q1": {"a": 1.0}})
    assert per_query["q2"]["ndcg@10"] == 0.0
    assert mean_metrics(per_query)["ndcg@10"] == pytest.approx(0.5)


def test_macro_and_group_averages() -> None:
    tasks = {t: {"ndcg@10": i / 10} for i, t in enumerate(BRIGHT_TASK_GROUPS["Coding"] + ["biology"])}
    assert macro_average(tasks)["ndcg@10"] == pytest.approx((0.0 + 0.1 + 0.2) / 3)
    groups = group_averages(tasks, BRIGHT_TASK_GROUPS)
    assert list(groups) == ["Coding"] and groups["Coding"]["ndcg@10"] == pytest.approx(0.05)


def _official_bright_scores(folder: Path) -> dict[str, float]:
    """BRIGHT's own recipe, written out directly: rank_bm25 scores over the whole corpus, pop the
    excluded ids (not "N/A"), sort, keep 1000, qrels from gold_ids, pytrec_eval, mean over queries."""
    import re

    from rank_bm25 import BM25Okapi

    from reasonembed.io import read_jsonl

    docs = read_jsonl(folder / "documents.jsonl")
    examples = read_jsonl(folder / "examples.jsonl")
    tok = lambda s: re.findall(r"\w+", s.lower())  # noqa: E731
    bm25 = BM25Okapi([tok(d["content"]) for d in docs])
    run, qrels = {}, {}
    for ex in examples:
        scores = dict(zip([d["id"] for d in docs], bm25.get_scores(tok(ex["query"])).tolist()))
        for did in set(ex["excluded_ids"]):
            if did != "N/A":
                scores.pop(did)
        run[ex["id"]] = dict(sorted(scores.items(), key=lambda x: x[1], reverse=True)[:1000])
        qrels[ex["id"]] = {g: 1 for g in ex["gold_ids"]}
    measures = {"ndcg_cut.1,5,10,25,50,100", "recall.1,5,10,25,50,100", "map", "recip_rank"}
    raw = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run)
    names = {
        "ndcg_cut_10": "ndcg@10",
        "ndcg_cut_100": "ndcg@100",
        "recall_100": "recall@100",
        "recall_10": "recall@10",
        "map": "map",
        "recip_rank": "mrr",
    }
    return {ours: sum(q[theirs] for q in raw.values()) / len(raw) for theirs, ours in names.items()}


def test_parity_with_direct_pytrec_eval(tiny_task: Path, shared_data: Path, tmp_path: Path) -> None:
    for folder in (tiny_task, shared_data / "theoremqa_q_dev"):
        expected = _official_bright_scores(folder)
        results = evaluate("bm25", folder, out_dir=tmp_path / folder.name)
        name = folder.name
        ours = results["tasks"][name]["metrics"]
        for metric, value in expected.items():
            assert abs(ours[metric] - value) <= 1e-9, (name, metric, ours[metric], value)
        # the written run file re-scores to the same numbers
        task = load_eval_dataset(folder).tasks[name]
        rescored = mean_metrics(
            score_run(task.qrels, read_trec_run(tmp_path / name / "runs" / f"{name}.trec"))
        )
        for metric, value in expected.items():
            assert abs(rescored[metric] - value) <= 1e-9, (name, metric)
