"""Searchers: exact dense (matrix product / FAISS flat), BM25 (classic and BRIGHT's query-side), fusion."""

from reasonembed.retrieval.base import Hit, Searcher

__all__ = ["Hit", "Searcher"]
