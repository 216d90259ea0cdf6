"""Fusion of two searchers, on hand-made rankings (retrieval/fusion.py)."""

from __future__ import annotations

import pytest

from reasonembed.retrieval.base import Hit
from reasonembed.retrieval.fusion import NormalizedScoreFusion, ReciprocalRankFusion, fuse, min_max


class Fixed:
    """A searcher that returns a fixed ranking (the test's input), honouring k and exclusions."""

    def __init__(self, hits: list[Hit]) -> None:
        self.hits = hits
        self.asked_k: list[int] = []

    def search(self, query, k=10):
        return self.batch_search([query], ["q"], k)["q"]

    def batch_search(self, queries, qids, k=10, excluded=None):
        self.asked_k.append(k)
        out = {}
        for qid in qids:
            drop = set((excluded or {}).get(qid, []))
            out[qid] = [h for h in self.hits if h.docid not in drop][:k]
        return out


A = Fixed([Hit("a", 0.9), Hit("b", 0.8), Hit("c", 0.1)])
B = Fixed([Hit("c", 12.0), Hit("a", 6.0), Hit("d", 2.0)])


def test_rrf_by_hand() -> None:
    hits = ReciprocalRankFusion(A, B, c=60).search("q", k=4)
    expected = {"a": 1 / 61 + 1 / 62, "c": 1 / 63 + 1 / 61, "b": 1 / 62, "d": 1 / 63}
    assert [h.docid for h in hits] == ["a", "c", "b", "d"]
    for h in hits:
        assert h.score == pytest.approx(expected[h.docid])


def test_score_fusion_by_hand() -> None:
    assert min_max([Hit("x", 2.0), Hit("y", 2.0)]) == {"x": 1.0, "y": 1.0}
    hits = NormalizedScoreFusion(A, B, alpha=0.25).search("q", k=4)
    # A: a 1, b 0.875, c 0 ; B: c 1, a 0.4, d 0
    expected = {"a": 0.25 * 1 + 0.75 * 0.4, "b": 0.25 * 0.875, "c": 0.75, "d": 0.0}
    assert [h.docid for h in hits] == ["c", "a", "b", "d"]
    for h in hits:
        assert h.score == pytest.approx(expected[h.docid])


def test_exclusions_and_depth_pass_through() -> None:
    a, b = Fixed(A.hits), Fixed(B.hits)
    runs = fuse(a, b, "rrf", depth=50).batch_search(["q"], ["q1"], k=2, excluded={"q1": ["a"]})
    assert [h.docid for h in runs["q1"]] == ["c", "b"]
    assert a.asked_k == [50] and b.asked_k == [50]
    with pytest.raises(ValueError, match="not one of rrf, score"):
        fuse(a, b, "max")
    with pytest.raises(ValueError, match="alpha"):
        NormalizedScoreFusion(a, b, alpha=1.5)
