"""Side-by-side comparison: every cell is `evaluation.runner.evaluate`, verdicts come from a paired bootstrap."""

from __future__ import annotations

from pathlib import Path

from reasonembed.evaluation.compare import (
    System,
    comparison_table,
    evaluate_systems,
    paired_difference,
    score_table,
    verdict,
)
from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.runner import evaluate


def _cell(values):
    return {"metrics": {"ndcg@10": sum(values.values()) / len(values)},
            "per_query": {q: {"ndcg@10": v} for q, v in values.items()}}


def test_paired_difference_verdicts_and_tables():
    base = {f"q{i}": 0.5 for i in range(30)}
    better = {q: v + 0.1 for q, v in base.items()}
    noisy = {q: v + (0.2 if i % 2 else -0.2) for i, (q, v) in enumerate(base.items())}
    assert verdict(paired_difference(better, base)) == "improved"
    assert verdict(paired_difference(base, better)) == "got worse"
    assert verdict(paired_difference(noisy, base)) == "no clear change"
    assert verdict(paired_difference({}, base)) == "not measured"

    results = {"base": {"dev": _cell(base), "other": _cell(base)}, "trained": {"dev": _cell(better)}}
    table, sentences = comparison_table(results, "base", ["trained"], {"dev": "dev set", "other": "another set"})
    assert "| trained | dev set | +10.0 |" in table and len(sentences) == 1  # "other" has no trained cell
    assert "improved" in sentences[0] and "30 queries" in sentences[0]
    assert score_table(results, {"other": "another set", "dev": "dev set"}).splitlines()[0] == \
        "| system | another set | dev set |"
    assert "| trained | — | 60.0 |" in score_table(results, {"other": "another set", "dev": "dev set"})
    assert score_table(results).splitlines()[0] == "| system | dev | other |"  # no labels: keys in first-seen order


def test_each_cell_equals_evaluate_for_each_system(shared_data: Path, tmp_path: Path, minilm_embedder) -> None:
    dataset = load_eval_dataset(shared_data / "theoremqa_q_dev").subsample(12, 80, seed=1)
    systems = [System("BM25", "bm25"), System("base", minilm_embedder), System("base + instr", minilm_embedder, True),
               System("hybrid", hybrid_of=("base", "BM25"))]
    out = evaluate_systems(systems, {"eval": dataset}, tmp_path / "cache", {"eval": "Find the theorem."})
    for name in ("BM25", "base", "base + instr", "hybrid"):
        cell = out[name]["eval"]
        assert {"metrics", "per_query", "num_queries", "num_documents", "instruction"} <= set(cell)
        assert cell["num_queries"] == 12 and len(cell["per_query"]) == 12
    assert out["base + instr"]["eval"]["instruction"] == "Find the theorem." and out["base"]["eval"]["instruction"] is None
    expected = evaluate(minilm_embedder, dataset, instruction=None, hybrid="bm25", fusion="rrf", top_k=100)
    assert out["hybrid"]["eval"]["per_query"] == expected["tasks"]["theoremqa_q_dev"]["per_query"]
    assert out["hybrid"]["eval"]["of"] == ["base", "BM25"]
    assert out["BM25"]["eval"]["per_query"] == evaluate("bm25", dataset)["tasks"]["theoremqa_q_dev"]["per_query"]


def test_subsample_keeps_every_gold_and_excluded_document_of_the_kept_queries(shared_data: Path) -> None:
    full = load_eval_dataset(shared_data / "theoremqa_q_dev")
    (task,) = full.tasks.values()
    small = full.subsample(5, 40, seed=3)
    (cut,) = small.tasks.values()
    assert cut.query_ids == task.query_ids[:5] and cut.query_texts == task.query_texts[:5]
    needed = {d for q in cut.query_ids for d in (*task.qrels[q], *task.excluded.get(q, []))}
    assert needed <= set(cut.doc_ids) and len(cut.doc_ids) == max(40, len(needed))
    assert cut.doc_ids == [d for d in task.doc_ids if d in set(cut.doc_ids)]  # corpus order kept
    assert dict(zip(cut.doc_ids, cut.doc_texts, strict=True)).items() <= dict(
        zip(task.doc_ids, task.doc_texts, strict=True)).items()
    assert full.subsample(5, 40, seed=3).tasks[task.name].doc_ids == cut.doc_ids  # deterministic
    assert full.subsample(5, 40, seed=4).tasks[task.name].doc_ids != cut.doc_ids
    assert "subsample: 5 queries" in cut.source and full.subsample(None, None).tasks[task.name] is task
