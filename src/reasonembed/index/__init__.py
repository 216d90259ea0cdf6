"""Index a corpus with an embedder and search it: resumable sharded build, FAISS flat/IVF/HNSW, searchers."""

from reasonembed.index.build import BuildReport, build_index
from reasonembed.index.searcher import IndexSearcher, load_index, open_searcher
from reasonembed.index.store import IndexMismatchError, IndexStoreError

__all__ = [
    "BuildReport",
    "IndexMismatchError",
    "IndexSearcher",
    "IndexStoreError",
    "build_index",
    "load_index",
    "open_searcher",
]
