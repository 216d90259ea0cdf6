"""The quickstart's systems are scored through `evaluation.runner.evaluate` (no private loop)."""

from __future__ import annotations

from pathlib import Path

from reasonembed.evaluation.runner import evaluate
from reasonembed.quickstart import evaluate as qs_eval
from reasonembed.quickstart.evaluate import System, evaluate_systems, load_column


def test_quickstart_cells_equal_evaluate_for_each_system(shared_data: Path, tmp_path: Path, minilm_embedder) -> None:
    column = load_column(shared_data / "theoremqa_q_dev", max_queries=12, max_docs=80, seed=1)
    systems = [System("BM25", "bm25"), System("base", minilm_embedder), System("base + instr", minilm_embedder, True),
               System("hybrid", hybrid_of=("base", "BM25"))]
    out = evaluate_systems(systems, {"eval": column}, tmp_path / "cache", {"eval": "Find the theorem."})
    assert not hasattr(qs_eval, "RunSearcher")
    for name in ("BM25", "base", "base + instr", "hybrid"):
        cell = out[name]["eval"]
        assert {"metrics", "per_query", "num_queries", "num_documents", "instruction"} <= set(cell)
        assert cell["num_queries"] == 12 and len(cell["per_query"]) == 12
    assert out["base + instr"]["eval"]["instruction"] == "Find the theorem." and out["base"]["eval"]["instruction"] is None
    expected = evaluate(minilm_embedder, column, instruction=None, hybrid="bm25", fusion="rrf", top_k=100)
    assert out["hybrid"]["eval"]["per_query"] == expected["tasks"]["theoremqa_q_dev"]["per_query"]
    assert out["hybrid"]["eval"]["of"] == ["base", "BM25"]
    assert out["BM25"]["eval"]["per_query"] == evaluate("bm25", column)["tasks"]["theoremqa_q_dev"]["per_query"]
