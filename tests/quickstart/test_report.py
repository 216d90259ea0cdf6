"""Report helpers: the paired bootstrap verdicts, tables and plots, and the gold-pair samples."""

from __future__ import annotations

from reasonembed.quickstart.gold import gold_samples
from reasonembed.quickstart.report import (
    comparison_table,
    paired_difference,
    plot_loss_curves,
    plot_ri,
    score_table,
    verdict,
)


def _eval(values):
    return {"metrics": {"ndcg@10": sum(values.values()) / len(values)},
            "per_query": {q: {"ndcg@10": v} for q, v in values.items()}}


def test_paired_difference_and_verdicts():
    base = {f"q{i}": 0.5 for i in range(30)}
    better = {q: v + 0.1 for q, v in base.items()}
    noisy = {q: v + (0.2 if i % 2 else -0.2) for i, (q, v) in enumerate(base.items())}
    assert verdict(paired_difference(better, base)) == "improved"
    assert verdict(paired_difference(base, better)) == "got worse"
    assert verdict(paired_difference(noisy, base)) == "no clear change"
    assert verdict(paired_difference({}, base)) == "not measured"

    evaluation = {"MiniLM (base)": {"eval": _eval(base)}, "trained": {"eval": _eval(better)}}
    table, sentences = comparison_table(evaluation, "MiniLM (base)", ["trained"])
    assert "| trained | eval part: unseen theorems | +10.0 |" in table
    assert sentences and "improved" in sentences[0] and "30 queries" in sentences[0]
    assert "| trained | 60.0 |" in score_table(evaluation)


def test_plots_write_pngs(tmp_path):
    assert plot_loss_curves({"a": [(1, 2.0), (2, 1.5)]}, tmp_path / "l.png").read_bytes()[:4] == b"\x89PNG"
    assert plot_ri({"base": [0.5, 1.2, 5.0], "trained": [1.0]}, tmp_path / "r.png", kappa=5).exists()
    assert plot_loss_curves({}, tmp_path / "none.png") is None and plot_ri({"x": []}, tmp_path / "n.png") is None


def test_gold_samples_use_gold_positives_and_non_gold_bm25_negatives(tmp_path):
    (tmp_path / "documents.jsonl").write_text("\n".join([
        '{"id": "a", "content": "integral of x squared from zero to one"}',
        '{"id": "b", "content": "integral of sine from zero to pi"}',
        '{"id": "c", "content": "integral of x squared from one to two, a different theorem"}',
        '{"id": "d", "content": "eigenvalues of a two by two matrix"}']) + "\n")
    (tmp_path / "examples.jsonl").write_text(
        '{"id": "a", "query": "integral of x squared from zero to one", "gold_ids": ["b"], "excluded_ids": ["a"], "theorem": "t"}\n')
    (sample,) = gold_samples(tmp_path, "Given a Math problem, retrieve.", negatives=2)
    assert sample["pos_ids"] == ["b"] and sample["pos"] == ["integral of sine from zero to pi"]
    assert sample["neg_ids"][0] == "c" and "a" not in sample["neg_ids"] and "b" not in sample["neg_ids"]
    assert sample["prompt"].startswith("Given a Math problem") and sample["reasoning_query"] is None
