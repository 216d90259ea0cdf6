"""BM25, in the two flavours BRIGHT numbers are quoted with.

Why two: BRIGHT's official BM25 row (14.5 nDCG@10) is not textbook BM25. Its harness runs
gensim's `LuceneBM25Model(k1=0.9, b=0.4)` over pyserini-analysed text and passes the *query*
bag-of-words through the same model, so query terms carry BM25 weights too ("query-side BM25",
BM25Q, arXiv 2509.02558; METHOD.md B.3). Dev-set references in this project instead use
`rank_bm25.BM25Okapi` on lower-cased `\\w+` tokens. Both are implemented here as one sparse
matrix product (scipy), fast enough for BRIGHT's 400K-document corpora.

``variant="classic"`` (rank_bm25 BM25Okapi, k1=1.5, b=0.75, epsilon=0.25)::

    idf(t)   = ln(N - df + 0.5) - ln(df + 0.5); negative idfs are replaced by epsilon * mean(idf)
    score    = sum over query tokens (with repetition) of
               idf(t) * tf (k1 + 1) / (tf + k1 (1 - b + b |d| / avgdl))

``variant="bm25q"`` (gensim LuceneBM25Model + SparseMatrixSimilarity, k1=0.9, b=0.4)::

    idf(t)   = ln(N + 1) - ln(df + 0.5)
    w(t, x)  = idf(t) * tf / (tf + k1 (1 - b + b |x| / avgdl))       for x = document or query
    score    = sum_t w(t, d) * w(t, q)       (|q| counts only query tokens seen in the corpus)

Tokenisers: classic uses `re.findall(r"\\w+", text.lower())`. BM25Q uses `LuceneAnalyzer`
(retrieval/lucene_analyzer.py), which makes the same tokens as pyserini's default English analyzer
(StandardTokenizer, possessive filter, lower case, Lucene's 33 English stop words, Lucene's Porter
stemmer); tests/retrieval/test_lucene_analyzer.py holds it to tokens that Lucene itself made.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse

from reasonembed.retrieval.base import Excluded, Hit
from reasonembed.retrieval.dense import DocIndex, rank_row
from reasonembed.retrieval.lucene_analyzer import LuceneAnalyzer

_WORD = re.compile(r"\w+")
_BLOCK = 64


def simple_tokenize(text: str) -> list[str]:
    """rank_bm25-style tokens: lower-cased `\\w+` runs."""
    return _WORD.findall(text.lower())


class BM25Searcher:
    """Exact BM25 over a fixed corpus; implements the `Searcher` protocol."""

    DEFAULTS = {"classic": {"k1": 1.5, "b": 0.75}, "bm25q": {"k1": 0.9, "b": 0.4}}

    def __init__(
        self,
        doc_ids: Sequence[str],
        texts: Sequence[str],
        variant: str = "classic",
        k1: float | None = None,
        b: float | None = None,
        epsilon: float = 0.25,
        tokenizer: Callable[[str], list[str]] | None = None,
        show_progress: bool = False,
    ):
        if variant not in self.DEFAULTS:
            raise ValueError(f"variant must be one of {sorted(self.DEFAULTS)}, got {variant!r}")
        if len(doc_ids) != len(texts):
            raise ValueError(f"{len(doc_ids)} doc ids but {len(texts)} texts")
        self.variant = variant
        self.k1 = self.DEFAULTS[variant]["k1"] if k1 is None else k1
        self.b = self.DEFAULTS[variant]["b"] if b is None else b
        self.epsilon = epsilon
        self.tokenizer = tokenizer or (simple_tokenize if variant == "classic" else LuceneAnalyzer())
        self.index = DocIndex(doc_ids)
        self._build(texts, show_progress)

    def _build(self, texts: Sequence[str], show_progress: bool) -> None:
        """Tokenise document by document (never all token lists at once) into compact arrays."""
        from tqdm.auto import tqdm

        self.vocab: dict[str, int] = {}
        rows, cols, vals = array("q"), array("q"), array("d")
        lengths = np.zeros(len(texts), dtype=np.float64)
        for i, text in enumerate(tqdm(texts, desc="BM25 index", disable=not show_progress, unit="doc")):
            toks = self.tokenizer(text)
            lengths[i] = len(toks)
            counts = Counter(toks)
            rows.extend([i] * len(counts))
            cols.extend([self.vocab.setdefault(tok, len(self.vocab)) for tok in counts])
            vals.extend(counts.values())
        rows, cols, vals = (
            np.frombuffer(a, dtype=a.typecode) if len(a) else np.zeros(0, a.typecode)
            for a in (rows, cols, vals)
        )
        n_docs, n_terms = len(texts), max(len(self.vocab), 1)
        tf = sparse.csr_matrix((vals, (rows, cols)), shape=(n_docs, n_terms))
        df = np.bincount(cols, minlength=n_terms).astype(np.float64)
        self.avgdl = float(lengths.sum() / n_docs) if n_docs else 0.0
        if self.variant == "classic":
            idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
            eps = self.epsilon * (idf.sum() / len(idf)) if len(self.vocab) else 0.0
            idf = np.where(idf < 0, eps, idf)
            gain = self.k1 + 1.0
        else:
            idf = np.log(n_docs + 1.0) - np.log(df + 0.5)
            gain = 1.0
        self.idf = idf
        norm = self.k1 * (1.0 - self.b + self.b * lengths / self.avgdl) if self.avgdl else np.zeros(n_docs)
        coo = tf.tocoo()
        weights = idf[coo.col] * coo.data * gain / (coo.data + norm[coo.row])
        # documents x terms; stored transposed for query-block products
        self.weights_t = sparse.csr_matrix((weights, (coo.col, coo.row)), shape=(n_terms, n_docs))

    def query_vector(self, query: str) -> sparse.csr_matrix:
        counts = Counter(t for t in self.tokenizer(query) if t in self.vocab)
        cols = np.fromiter((self.vocab[t] for t in counts), dtype=np.int64, count=len(counts))
        qtf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self.variant == "classic":
            vals = qtf  # rank_bm25 loops over query tokens: a repeated token counts again
        else:
            qlen = qtf.sum()
            vals = self.idf[cols] * qtf / (qtf + self.k1 * (1.0 - self.b + self.b * qlen / self.avgdl))
        return sparse.csr_matrix((vals, (np.zeros_like(cols), cols)), shape=(1, self.weights_t.shape[0]))

    def get_scores(self, query: str) -> np.ndarray:
        """Score of every document, in corpus order."""
        return np.asarray((self.query_vector(query) @ self.weights_t).todense()).ravel()

    # -- Searcher protocol
    def search(self, query: str, k: int = 10) -> list[Hit]:
        return rank_row(self.get_scores(query), self.index, k)

    def batch_search(
        self, queries: Sequence[str], qids: Sequence[str], k: int = 10, excluded: Excluded = None,
        show_progress: bool = False,
    ) -> dict[str, list[Hit]]:
        from tqdm.auto import tqdm

        excluded = excluded or {}
        out: dict[str, list[Hit]] = {}
        bar = tqdm(total=len(queries), desc=f"BM25 ({self.variant})", disable=not show_progress)
        for start in range(0, len(queries), _BLOCK):
            block = sparse.vstack([self.query_vector(q) for q in queries[start : start + _BLOCK]]).tocsr()
            scores = np.asarray((block @ self.weights_t).todense())
            for j, row in enumerate(scores):
                qid = qids[start + j]
                out[qid] = rank_row(row, self.index, k, self.index.excluded_positions(excluded.get(qid)))
            bar.update(scores.shape[0])
        bar.close()
        return out

    def describe(self) -> dict[str, object]:
        return {
            "model": f"bm25-{self.variant}",
            "k1": self.k1,
            "b": self.b,
            "epsilon": self.epsilon if self.variant == "classic" else None,
            "tokenizer": "lower \\w+" if self.variant == "classic" else "lucene english (pyserini default)",
            "vocab_size": len(self.vocab),
            "avgdl": self.avgdl,
        }
