"""The judge audit: metrics by hand on tiny cases, pair sampling, and the chance baselines."""

from __future__ import annotations

import math

import pytest

from reasonembed.remixer.audit import (
    AuditPair,
    audit_judgements,
    build_audit_pairs,
    cohen_kappa,
    plot_score_histogram,
    roc_auc,
)


def test_cohen_kappa_by_hand():
    # 10 pairs: agree on 7. p_true(1)=0.5, p_pred(1)=0.4 -> pe = 0.5*0.4 + 0.5*0.6 = 0.5; kappa = (0.7-0.5)/0.5
    truth = [1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
    pred = [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]
    assert cohen_kappa(truth, pred) == pytest.approx(0.4)
    assert cohen_kappa(truth, truth) == pytest.approx(1.0)
    assert cohen_kappa(truth, [1] * 10) == pytest.approx(0.0)  # a constant rater has no skill


def test_roc_auc_counts_ties_half():
    assert roc_auc([1, 1, 0, 0], [5, 4, 2, 1]) == 1.0
    assert roc_auc([1, 1, 0, 0], [1, 2, 4, 5]) == 0.0
    assert roc_auc([1, 0], [3, 3]) == 0.5
    assert math.isnan(roc_auc([1, 1], [3, 4]))


def _pairs():
    return [AuditPair(f"q{i}", f"g{i}", True) for i in range(4)] + [
        AuditPair(f"q{i}", f"n{i}", False) for i in range(4)
    ]


def test_perfect_judge_and_constant_judge():
    pairs = _pairs()
    perfect = [{"query_id": p.query_id, "doc_id": p.doc_id, "score": 5 if p.relevant else 1} for p in pairs]
    res = audit_judgements(perfect, pairs, bootstrap=50)
    assert res.accuracy == 1.0 and res.kappa == pytest.approx(1.0) and res.auc == 1.0
    assert res.confusion == [[4, 0], [0, 4]]
    assert "well beyond chance" in res.verdict

    yes_man = [{"query_id": p.query_id, "doc_id": p.doc_id, "score": 4} for p in pairs]
    res = audit_judgements(yes_man, pairs, bootstrap=50)
    assert res.accuracy == 0.5 == res.chance_accuracy
    assert res.kappa == 0.0 and res.auc == 0.5
    assert res.confusion == [[0, 4], [0, 4]]
    assert "NOT beat chance" in res.verdict
    assert res.histogram["non-gold"] == {"4": 4}


def test_unparsable_missing_and_foreign_records():
    pairs = _pairs()
    recs = [
        {"query_id": "q0", "doc_id": "g0", "score": None},
        {"query_id": "q1", "doc_id": "g1", "score": 3},
        {"query_id": "q1", "doc_id": "n1", "score": 2},
        {"query_id": "zz", "doc_id": "g0", "score": 5},
    ]  # not a labelled pair: ignored
    res = audit_judgements(recs, pairs, threshold=3, bootstrap=20)
    assert (res.n_pairs, res.n_scored, res.n_unparsed, res.missing) == (8, 2, 1, 5)
    assert res.histogram["gold"] == {"null": 1, "3": 1}
    assert res.accuracy == 1.0
    md = res.to_markdown()
    assert "| gold | 0 | 0 | 1 | 0 | 0 | 1 |" in md
    assert res.to_dict()["n_missing"] == 5

    none = audit_judgements([{"query_id": "q0", "doc_id": "g0", "score": None}], pairs, bootstrap=10)
    assert none.n_scored == 0 and "could not be assessed" in none.verdict
    with pytest.raises(ValueError, match="threshold"):
        audit_judgements([], pairs, threshold=7)


def test_build_audit_pairs_is_seeded_and_respects_labels():
    examples = [
        {"id": "a", "gold_ids": ["b"], "excluded_ids": ["a", "x"]},
        {"id": "b", "gold_ids": ["a"], "excluded_ids": ["b"]},
        {"id": "c", "gold_ids": [], "excluded_ids": []},
    ]
    docs = ["a", "b", "x", "d1", "d2", "d3"]
    pairs = build_audit_pairs(examples, docs, max_queries=5, pos_per_query=2, neg_per_query=2, seed=1)
    assert pairs == build_audit_pairs(examples, docs, max_queries=5, pos_per_query=2, neg_per_query=2, seed=1)
    assert {p.query_id for p in pairs} == {"a", "b"}  # c has no gold document
    for p in pairs:
        if p.relevant:
            assert (p.query_id, p.doc_id) in {("a", "b"), ("b", "a")}
        else:
            allowed = {"a": {"d1", "d2", "d3"}, "b": {"x", "d1", "d2", "d3"}}[p.query_id]
            assert p.doc_id in allowed  # never gold, excluded, or the query itself
    assert sum(p.relevant for p in pairs) == 2 and sum(not p.relevant for p in pairs) == 4


def test_histogram_plot_writes_png(tmp_path):
    pairs = _pairs()
    recs = [{"query_id": p.query_id, "doc_id": p.doc_id, "score": 3} for p in pairs]
    out = plot_score_histogram(audit_judgements(recs, pairs, bootstrap=10), tmp_path / "h.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_scores_on_one_gold_class_only_cannot_assess_the_judge():
    pairs = _pairs()
    one = [{"query_id": "q0", "doc_id": "g0", "score": 5}]
    res = audit_judgements(one, pairs, bootstrap=20)
    assert res.n_scored == 1 and "too few to assess" in res.verdict

