"""Report helpers: the paired bootstrap verdicts, tables and plots, and the gold-pair samples."""

from __future__ import annotations

import json

import pytest

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


def test_report_rows_are_picked_by_role_not_by_display_name(tmp_path):
    from reasonembed.errors import RecordError
    from reasonembed.quickstart.report import system_role, with_role
    from reasonembed.quickstart.summary import results_section

    base = {f"q{i}": 0.4 for i in range(20)}
    better = {q: v + 0.2 for q, v in base.items()}
    worse = {q: v - 0.2 for q, v in base.items()}
    systems = {  # names chosen so that no prefix or suffix rule could tell the rows apart
        "reference encoder": {"eval": _eval(base), "train": _eval(base)},
        "lexical": {"eval": _eval(worse)},
        "encoder, prompted": {"eval": _eval(base)},
        "fused": {"eval": _eval(better)},
        "fine-tuned encoder": {"eval": _eval(better), "train": _eval(worse)},
    }
    roles = {"reference encoder": system_role("minilm"), "lexical": system_role("bm25"),
             "encoder, prompted": system_role("minilm", instructed=True),
             "fused": system_role(None, hybrid_of=("reference encoder", "lexical")),
             "fine-tuned encoder": system_role("runs/x/train_remix/model", instructed=True)}
    assert roles == {"reference encoder": "base", "lexical": "lexical", "encoder, prompted": "base+instruction",
                     "fused": "hybrid", "fine-tuned encoder": "trained"}
    assert with_role(roles, "base+instruction", "trained") == ["encoder, prompted", "fine-tuned encoder"]
    with pytest.raises(ValueError, match="unknown role"):
        with_role(roles, "teacher")

    path = tmp_path / "results.json"
    columns = {"eval": {"queries": 20, "documents": 50}, "train": {"queries": 20, "documents": 50}}
    path.write_text(json.dumps({"columns": columns, "systems": systems, "roles": roles}))
    tables, sentences, unseen = results_section(path)
    assert "Difference to reference encoder per query" in tables
    compared = {line.split("**")[1] for line in sentences}
    assert compared == {"encoder, prompted", "fine-tuned encoder"}  # not BM25, not the hybrid, not the base
    assert len(unseen) == 1 and unseen[0].startswith("- **fine-tuned encoder** on the eval part: unseen theorems")
    assert "improved" in unseen[0]

    path.write_text(json.dumps({"columns": columns, "systems": systems}))  # an older evaluate stage: no roles
    with pytest.raises(RecordError, match="roles"):
        results_section(path)
    for bad in ({**roles, "lexical": "teacher"}, {**roles, "lexical": "base"}):
        path.write_text(json.dumps({"columns": columns, "systems": systems, "roles": bad}))
        with pytest.raises(RecordError, match="exactly one 'base'"):
            results_section(path)
