"""Query an index from Python: the dense `IndexSearcher` and `open_searcher` (dense or hybrid).

    searcher = open_searcher("IDX")                    # the model named in the manifest
    searcher.search("why is the sky blue?", k=10)      # -> [Hit(docid, score), ...]
    searcher.document("doc-17")                        # stored text, for snippets

The query gets the index's task instruction (`Instruct: ...\\nQuery: ...`, the manifest's
`instruction` unless one is given); documents were encoded raw. Loading checks the model's
`Embedder.fingerprint` against the manifest and refuses a different model (`IndexMismatchError`),
since vectors from two models are not comparable. With `hybrid=True` the dense ranking is fused
(reciprocal-rank or normalised-score, retrieval/fusion.py) with BM25 over the stored texts.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.index import ann
from reasonembed.index.store import IndexStore, IndexStoreError
from reasonembed.retrieval.base import BatchSearcher, Excluded, Hit
from reasonembed.retrieval.dense import DenseSearcher, DocIndex, rank_candidates


@dataclass
class LoadedIndex:
    """Everything read from an index directory: ids, texts, the FAISS index, the manifest."""

    root: Path
    manifest: dict[str, Any]
    ids: list[str]
    texts: list[str]
    faiss_index: Any  # the trained IVF/HNSW index; None for flat (searched exactly from `vectors`)
    params: ann.AnnParams
    vectors: np.ndarray | None = None  # flat indexes only

    @property
    def count(self) -> int:
        return len(self.ids)

    @property
    def kind(self) -> str:
        return self.params.kind


def load_index(path: str | Path) -> LoadedIndex:
    """Read an index directory (vectors, ids, texts; the trained ANN file for IVF/HNSW)."""
    import faiss

    store = IndexStore.open(path)
    shards = store.complete_shards()
    ids, texts = store.read_docs(shards)
    manifest = store.manifest
    if len(ids) != manifest.get("count"):
        raise IndexStoreError(f"{store.root}: manifest says {manifest.get('count')} documents, shards hold {len(ids)}")
    fields = ann.AnnParams.__dataclass_fields__
    params = ann.AnnParams(**{k: v for k, v in (manifest.get("ann") or {}).items() if k in fields})
    if params.kind == "flat":
        vectors = store.read_vectors(shards)
        return LoadedIndex(store.root, manifest, ids, texts, None, params, vectors)
    else:
        file = store.faiss_path
        if not file.exists():
            raise IndexStoreError(f"{file}: missing; re-run `reasonembed index` to rebuild it")
        index = faiss.read_index(str(file))
        if index.ntotal != len(ids):
            raise IndexStoreError(f"{file}: holds {index.ntotal} vectors, the shards {len(ids)}")
        ann.configure(index, params)
    return LoadedIndex(store.root, manifest, ids, texts, index, params)


class IndexSearcher(BatchSearcher):
    """Dense top-k over a loaded index with one embedder (Searcher protocol).

    Not thread-safe by itself (the embedder is not); the server wraps the embedder in an
    `EncodeBatcher`, which is.
    """

    def __init__(self, index: LoadedIndex, embedder: Any, instruction: str | None = None, check: bool = True):
        if check:
            from reasonembed.index.build import embedder_settings

            settings = embedder_settings(embedder) if hasattr(embedder, "pooling") else None
            IndexStore(index.root, index.manifest).check_fingerprint(embedder.fingerprint, embedder.model_name_or_path, settings)
        self.index = index
        self.embedder = embedder
        self.instruction = index.manifest.get("instruction", "") if instruction is None else instruction
        self._position = {docid: i for i, docid in enumerate(index.ids)}
        # One top-k core (retrieval/dense.py): flat = evaluation's exact search; IVF/HNSW candidate
        # lists ranked by the same exclusion and tie rule.
        self._exact = DenseSearcher(index.ids, index.vectors) if index.vectors is not None else None
        self._doc_index = self._exact.index if self._exact is not None else DocIndex(index.ids)

    def with_instruction(self, instruction: str) -> IndexSearcher:
        """The same searcher (sharing the index) with another query instruction."""
        other = copy.copy(self)
        other.instruction = instruction
        return other

    def document(self, docid: str) -> str:
        return self.index.texts[self._position[docid]]

    def encode_queries(self, queries: Sequence[str], instruction: str | None = None) -> np.ndarray:
        instr = self.instruction if instruction is None else instruction
        return self.embedder.encode_queries(list(queries), instruction=instr)

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Excluded = None) -> dict[str, list[Hit]]:
        if len(queries) != len(qids):
            raise ValueError(f"{len(queries)} queries but {len(qids)} qids")
        vectors = self.encode_queries(queries) if queries else np.zeros((0, self.index.manifest["dim"]), np.float32)
        return self.search_vectors(vectors, qids, k, excluded)

    def search_vectors(
        self,
        vectors: np.ndarray,
        qids: Sequence[str],
        k: int = 10,
        excluded: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, list[Hit]]:
        """Top-k for query vectors already encoded; excluded ids are removed before the cut, ties
        ordered score descending then docid descending (trec_eval), as in evaluation."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if self._exact is not None:
            return self._exact.search_embeddings(vectors, qids, k, excluded)
        drop = [self._doc_index.excluded_positions((excluded or {}).get(qid)) for qid in qids]
        fetch = k + max((d.size for d in drop), default=0)
        scores, positions = ann.search(self.index.faiss_index, vectors, fetch)
        return {
            qid: rank_candidates(positions[row], scores[row], self._doc_index, k, drop[row])
            for row, qid in enumerate(qids)
        }


def bm25_searcher(ids: list[str], texts: list[str], variant: str = "classic") -> Any:
    """BM25 over the stored texts (retrieval/bm25.py; "classic" Okapi or BRIGHT's query-side "bm25q")."""
    from reasonembed.retrieval.bm25 import BM25Searcher

    return BM25Searcher(ids, texts, variant=variant)


def open_searcher(
    path: str | Path,
    embedder: Any | None = None,
    *,
    model: str | None = None,
    instruction: str | None = None,
    hybrid: bool = False,
    fusion: str = "rrf",
    device: str | None = None,
    **fusion_kwargs: float,
) -> Any:
    """A Searcher over an index: dense, or dense fused with BM25 when `hybrid` is true.

    Without `embedder`, the one the manifest names is built (or `model` with the manifest's
    settings); either way its fingerprint must match the index.
    """
    from reasonembed.index.build import embedder_from_manifest

    index = load_index(path)
    if embedder is None:
        embedder = embedder_from_manifest(index.manifest, model=model, device=device)
    dense = IndexSearcher(index, embedder, instruction)
    return hybrid_searcher(dense, fusion, **fusion_kwargs) if hybrid else dense


def hybrid_searcher(dense: IndexSearcher, fusion: str = "rrf", **fusion_kwargs: float) -> Any:
    """`dense` fused with BM25 over the same stored texts."""
    from reasonembed.retrieval.fusion import fuse

    variant = (dense.index.manifest.get("bm25") or {}).get("variant", "classic")
    return fuse(dense, bm25_searcher(dense.index.ids, dense.index.texts, variant), fusion, **fusion_kwargs)
