"""Exact dense retrieval: every document scored, excluded ids removed, top k kept.

Why exhaustive: BRIGHT's protocol scores each query against the whole task corpus, so no ANN
error may leak into a reported number. Two exact backends:

* `"numpy"` - blocked matrix product `Q @ D.T` (float32); the default for corpora below
  `FAISS_MIN_DOCS` documents.
* `"faiss"` - `faiss.IndexFlatIP` (exact inner product, multi-threaded) for large corpora. It is
  asked for `k + |excluded| + margin` neighbours; if a tie straddles that cut-off, the query is
  re-ranked with numpy, so the result equals the numpy backend's up to float summation order.

Embeddings are L2-normalised by the Embedder, so the inner product is the cosine.

This module is the one dense top-k core: evaluation, the index searcher (index/searcher.py: flat
indexes search through `DenseSearcher`, IVF/HNSW candidate lists go through `rank_candidates`)
and ReMixer's mining all rank with it. The ranking rule (`rank_row`), shared with BM25: drop the query's excluded ids (the literal
"N/A" is ignored, see `base.clean_excluded`), keep the `k` best, and order them by score
descending then docid descending - trec_eval's own tie order, so the TREC run file and the
in-memory ranking agree. Documents tied with the k-th score are resolved by that same order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from reasonembed.retrieval.base import BatchSearcher, Excluded, Hit, clean_excluded

FAISS_MIN_DOCS = 200_000
_BLOCK = 256


class DocIndex:
    """Doc ids with their position and lexicographic rank (for trec_eval tie order)."""

    def __init__(self, doc_ids: Sequence[str]):
        self.ids = list(doc_ids)
        self.position = {d: i for i, d in enumerate(self.ids)}
        if len(self.position) != len(self.ids):
            raise ValueError("duplicate document ids")
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        self.lex_rank = np.empty(len(self.ids), dtype=np.int64)
        self.lex_rank[order] = np.arange(len(self.ids))

    def excluded_positions(self, excluded: Sequence[str] | None) -> np.ndarray:
        ids = clean_excluded(excluded)
        return np.fromiter((self.position[d] for d in ids if d in self.position), dtype=np.int64)


def rank_row(
    scores: np.ndarray, index: DocIndex, k: int, excluded_pos: np.ndarray | None = None
) -> list[Hit]:
    """Top-k hits of one query's score vector over the whole corpus."""
    row = np.asarray(scores, dtype=np.float64)
    keep = np.ones(row.shape[0], dtype=bool)
    if excluded_pos is not None and excluded_pos.size:
        keep[excluded_pos] = False
    valid = np.flatnonzero(keep)
    if valid.size == 0 or k <= 0:
        return []
    vals = row[valid]
    kk = min(k, valid.size)
    kth = np.partition(vals, vals.size - kk)[vals.size - kk]
    cand = valid[vals >= kth]
    # score descending, then docid descending (lexsort sorts by the last key first, ascending)
    order = np.lexsort((-index.lex_rank[cand], -row[cand]))[:kk]
    chosen = cand[order]
    return [Hit(index.ids[i], float(row[i])) for i in chosen]


def rank_candidates(
    positions: np.ndarray, scores: np.ndarray, index: DocIndex, k: int, excluded_pos: np.ndarray | None = None
) -> list[Hit]:
    """`rank_row`'s rule over an approximate index's candidate list (IVF/HNSW): positions -1
    (no candidate) and excluded positions dropped, score descending then docid descending, top k."""
    pos = np.asarray(positions, dtype=np.int64)
    vals = np.asarray(scores, dtype=np.float64)
    keep = pos >= 0
    if excluded_pos is not None and excluded_pos.size:
        keep &= ~np.isin(pos, excluded_pos)
    pos, vals = pos[keep], vals[keep]
    if k <= 0 or pos.size == 0:
        return []
    order = np.lexsort((-index.lex_rank[pos], -vals))[:k]
    return [Hit(index.ids[pos[i]], float(vals[i])) for i in order]


class DenseSearcher(BatchSearcher):
    """Searcher over precomputed, L2-normalised document embeddings.

    `encoder` (an Embedder) is needed only for `search`/`batch_search` on raw query text;
    `search_embeddings` takes query embeddings directly.
    """

    def __init__(
        self,
        doc_ids: Sequence[str],
        doc_embeddings: np.ndarray,
        encoder: Any = None,
        instruction: str | None = None,
        backend: str = "auto",
        batch_size: int | None = None,
        show_progress: bool = False,
    ):
        if backend not in ("auto", "numpy", "faiss"):
            raise ValueError(f"backend must be one of 'auto', 'numpy', 'faiss', got {backend!r}")
        emb = np.ascontiguousarray(doc_embeddings, dtype=np.float32)
        if emb.ndim != 2 or emb.shape[0] != len(doc_ids):
            raise ValueError(f"doc_embeddings shape {emb.shape} does not match {len(doc_ids)} doc ids")
        self.index = DocIndex(doc_ids)
        self.doc_embeddings = emb
        self.encoder = encoder
        self.instruction = instruction
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.backend = (
            backend if backend != "auto" else ("faiss" if len(doc_ids) >= FAISS_MIN_DOCS else "numpy")
        )
        self._faiss: Any = None

    # -- Searcher protocol
    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        if self.encoder is None:
            raise ValueError("DenseSearcher was built without an encoder; use search_embeddings")
        options: dict[str, Any] = {}  # only what was set, so any encoder with encode_queries works
        if self.batch_size:
            options["batch_size"] = self.batch_size
        if self.show_progress:
            options["show_progress"] = True
        q_emb = self.encoder.encode_queries(list(queries), instruction=self.instruction, **options)
        return self.search_embeddings(q_emb, qids, k, excluded)

    # -- core
    def search_embeddings(
        self,
        query_embeddings: np.ndarray,
        qids: Sequence[str],
        k: int = 1000,
        excluded: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, list[Hit]]:
        q = np.ascontiguousarray(query_embeddings, dtype=np.float32)
        if q.ndim != 2 or q.shape[0] != len(qids) or q.shape[1] != self.doc_embeddings.shape[1]:
            raise ValueError(
                f"query embeddings {q.shape} do not match {len(qids)} queries of dim "
                f"{self.doc_embeddings.shape[1]}"
            )
        excluded = excluded or {}
        excl_pos = [self.index.excluded_positions(excluded.get(qid)) for qid in qids]
        if self.backend == "faiss":
            return self._search_faiss(q, qids, k, excl_pos)
        out: dict[str, list[Hit]] = {}
        for start in range(0, len(qids), _BLOCK):
            block = q[start : start + _BLOCK] @ self.doc_embeddings.T
            for j, row in enumerate(block):
                out[qids[start + j]] = rank_row(row, self.index, k, excl_pos[start + j])
        return out

    def _search_faiss(
        self, q: np.ndarray, qids: Sequence[str], k: int, excl_pos: list[np.ndarray]
    ) -> dict[str, list[Hit]]:
        import faiss

        if self._faiss is None:
            self._faiss = faiss.IndexFlatIP(self.doc_embeddings.shape[1])
            self._faiss.add(self.doc_embeddings)
        n_docs = self.doc_embeddings.shape[0]
        depth = min(n_docs, k + max((p.size for p in excl_pos), default=0) + 16)
        scores, idx = self._faiss.search(q, depth)
        out: dict[str, list[Hit]] = {}
        for j, qid in enumerate(qids):
            row = np.full(n_docs, -np.inf, dtype=np.float64)
            got = idx[j] >= 0
            row[idx[j][got]] = scores[j][got]
            hits = rank_row(row, self.index, k, excl_pos[j])
            boundary_tie = depth < n_docs and len(hits) and hits[-1].score <= float(scores[j][-1])
            if boundary_tie or len(hits) < min(k, n_docs - excl_pos[j].size):
                hits = rank_row(self.doc_embeddings @ q[j], self.index, k, excl_pos[j])
            out[qid] = hits
        return out
