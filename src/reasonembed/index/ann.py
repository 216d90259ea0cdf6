"""FAISS indexes over normalised vectors: exact flat by default, IVF or HNSW for large corpora.

All three use inner product, which equals cosine because the Embedder L2-normalises (the metric
ReasonEmbed evaluates with: FAISS `IndexFlatIP`, METHOD.md). An approximate index trades recall for
speed, so `recall_at_k` measures what was traded: the mean overlap of its top-10 with the exact
top-10 on a sample of corpus vectors used as queries, reported at build time and kept in the
manifest.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

Kind = Literal["flat", "ivf", "hnsw"]
KINDS: tuple[str, ...] = ("flat", "ivf", "hnsw")


@dataclass
class AnnParams:
    """Parameters of the approximate index; 0 means 'choose from the corpus size'."""

    kind: str = "flat"
    nlist: int = 0  # IVF cells; default ~4*sqrt(n), at most n/39 so every centroid gets training points
    nprobe: int = 0  # IVF cells visited per query; default max(8, nlist/8), at most nlist
    hnsw_m: int = 32  # HNSW graph degree
    ef_construction: int = 200
    ef_search: int = 128

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"index kind {self.kind!r} is not one of {', '.join(KINDS)}")

    def resolved(self, n: int) -> AnnParams:
        """Fill the size-dependent defaults for a corpus of `n` vectors."""
        out = AnnParams(**asdict(self))
        if out.kind == "ivf":
            if out.nlist <= 0:
                out.nlist = max(1, min(int(4 * math.sqrt(max(n, 1))), n // 39))
            out.nlist = max(1, min(out.nlist, n))
            if out.nprobe <= 0:
                out.nprobe = max(8, out.nlist // 8)
            out.nprobe = min(out.nprobe, out.nlist)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def build_ann(vectors: np.ndarray, params: AnnParams, seed: int = 0) -> Any:
    """Train (if needed) and fill a FAISS index of the requested kind."""
    import faiss

    n, dim = vectors.shape
    params = params.resolved(n)
    if params.kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif params.kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, params.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = params.ef_construction
    else:
        if n == 0:
            raise ValueError("an IVF index needs at least one vector to train on")
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFFlat(quantizer, dim, params.nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.seed = seed
        index.train(vectors)
    if n:
        index.add(vectors)
    configure(index, params)
    return index


def configure(index: Any, params: AnnParams) -> None:
    """Apply the search-time knobs (nprobe, efSearch) that FAISS does not store in the file."""
    import faiss

    if params.kind == "ivf":
        faiss.extract_index_ivf(index).nprobe = params.nprobe
    elif params.kind == "hnsw":
        index.hnsw.efSearch = params.ef_search


def search(index: Any, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, positions); positions are -1 where the index found fewer than k."""
    k = max(1, min(k, index.ntotal))
    if index.ntotal == 0:
        return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
    return index.search(np.ascontiguousarray(queries, dtype=np.float32), k)


def recall_at_k(approx: Any, vectors: np.ndarray, k: int = 10, sample: int = 500, seed: int = 0) -> float:
    """Mean |approx top-k ∩ exact top-k| / k over a random sample of corpus vectors used as queries."""
    import faiss

    n = vectors.shape[0]
    if n == 0:
        return 1.0
    rng = np.random.default_rng(seed)
    rows = rng.choice(n, size=min(sample, n), replace=False)
    queries = vectors[rows]
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    k = min(k, n)
    _, truth = exact.search(queries, k)
    _, found = approx.search(queries, k)
    overlap = [len(set(t.tolist()) & set(f.tolist()) - {-1}) / k for t, f in zip(truth, found, strict=True)]
    return float(np.mean(overlap))
