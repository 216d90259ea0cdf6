"""Hybrid search: compose two Searchers (typically dense + BM25) into one.

Dense embedders and lexical BM25 fail on different queries, so merging their rankings often beats
either alone. Two standard merges, each itself a `Searcher` (pyserini's hybrid pattern):

* `ReciprocalRankFusion` — score(d) = sum_s w_s / (c + rank_s(d)), rank 1-based, c = 60
  (Cormack, Clarke & Buettcher, SIGIR 2009). Uses ranks only, so the scales need not agree.
* `NormalizedScoreFusion` — each side's scores over its top-`depth` list are min-max normalised to
  [0, 1]; score(d) = alpha * first(d) + (1 - alpha) * second(d), a side missing d contributing 0
  (the convex combination of Bruch, Gai & Ingber, TOIS 2023).

Each side is asked for `depth` (>= k) candidates with the excluded ids already removed, so the
fused top-k never holds an excluded document.
"""

from __future__ import annotations

from collections.abc import Sequence

from reasonembed.retrieval.base import BatchSearcher, Excluded, Hit, Searcher, sort_hits


class _Fusion(BatchSearcher):
    def __init__(self, first: Searcher, second: Searcher, depth: int = 100) -> None:
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        self.first = first
        self.second = second
        self.depth = depth

    def fuse(self, a: list[Hit], b: list[Hit]) -> dict[str, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        depth = max(self.depth, k)
        a = self.first.batch_search(queries, qids, depth, excluded)
        b = self.second.batch_search(queries, qids, depth, excluded)
        out: dict[str, list[Hit]] = {}
        for qid in qids:
            scores = self.fuse(a.get(qid, []), b.get(qid, []))
            out[qid] = sort_hits([Hit(docid, score) for docid, score in scores.items()])[:k]
        return out


class ReciprocalRankFusion(_Fusion):
    """RRF of two searchers: sum of w / (c + rank) over the lists a document appears in."""

    def __init__(
        self,
        first: Searcher,
        second: Searcher,
        c: float = 60.0,
        weights: tuple[float, float] = (1.0, 1.0),
        depth: int = 100,
    ) -> None:
        super().__init__(first, second, depth)
        if c < 0:
            raise ValueError(f"the RRF constant c must be >= 0, got {c}")
        self.c = c
        self.weights = weights

    def fuse(self, a: list[Hit], b: list[Hit]) -> dict[str, float]:
        scores: dict[str, float] = {}
        for weight, hits in zip(self.weights, (a, b), strict=True):
            for rank, hit in enumerate(hits, start=1):
                scores[hit.docid] = scores.get(hit.docid, 0.0) + weight / (self.c + rank)
        return scores


def min_max(hits: list[Hit]) -> dict[str, float]:
    """Scores rescaled to [0, 1] within one list; a list whose scores are all equal maps to 1."""
    if not hits:
        return {}
    low = min(h.score for h in hits)
    high = max(h.score for h in hits)
    span = high - low
    return {h.docid: (h.score - low) / span if span > 0 else 1.0 for h in hits}


class NormalizedScoreFusion(_Fusion):
    """alpha * minmax(first) + (1 - alpha) * minmax(second)."""

    def __init__(self, first: Searcher, second: Searcher, alpha: float = 0.5, depth: int = 100) -> None:
        super().__init__(first, second, depth)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = alpha

    def fuse(self, a: list[Hit], b: list[Hit]) -> dict[str, float]:
        na, nb = min_max(a), min_max(b)
        return {d: self.alpha * na.get(d, 0.0) + (1 - self.alpha) * nb.get(d, 0.0) for d in set(na) | set(nb)}


FUSIONS = {"rrf": ReciprocalRankFusion, "score": NormalizedScoreFusion}


def fuse(first: Searcher, second: Searcher, method: str = "rrf", **kwargs: float) -> Searcher:
    """Build a fusion searcher by name ("rrf" or "score")."""
    if method not in FUSIONS:
        raise ValueError(f"fusion {method!r} is not one of {', '.join(FUSIONS)}")
    return FUSIONS[method](first, second, **kwargs)
