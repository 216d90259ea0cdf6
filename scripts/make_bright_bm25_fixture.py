"""Regenerate tests/retrieval/fixtures/bright_bm25_theoremqa_q_dev.jsonl: BRIGHT's own BM25 ranking.

BRIGHT's harness (retrievers.py, ``retrieval_bm25``) analyzes every document and query with
pyserini's default Lucene analyzer, builds a gensim ``Dictionary``, weights documents and queries
with ``LuceneBM25Model(k1=0.9, b=0.4)``, scores with ``SparseMatrixSimilarity`` (no normalisation),
drops each query's excluded ids and keeps the best scores. This script runs that pipeline on the
bundled TheoremQA-Q dev set and writes each query's 20 best (doc id, score) pairs;
tests/retrieval/test_bm25.py checks that `BM25Searcher(variant="bm25q")` ranks the same top 10.

Needs Java and, beside pyserini (see make_lucene_token_fixture.py), gensim:

    /tmp/pyserini-venv/bin/pip install gensim
    JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 \\
        /tmp/pyserini-venv/bin/python scripts/make_bright_bm25_fixture.py
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TASK = ROOT / "src" / "reasonembed" / "data" / "theoremqa_q_dev"
OUT = ROOT / "tests" / "retrieval" / "fixtures" / "bright_bm25_theoremqa_q_dev.jsonl"
KEEP = 20


def main() -> None:
    from gensim.corpora import Dictionary
    from gensim.models import LuceneBM25Model
    from gensim.similarities import SparseMatrixSimilarity
    from pyserini.analysis import Analyzer, get_lucene_analyzer

    with open(TASK / "documents.jsonl", encoding="utf-8") as fh:
        docs = [json.loads(line) for line in fh]
    with open(TASK / "examples.jsonl", encoding="utf-8") as fh:
        examples = [json.loads(line) for line in fh]
    analyzer = Analyzer(get_lucene_analyzer())
    corpus = [analyzer.analyze(doc["content"]) for doc in docs]
    dictionary = Dictionary(corpus)
    model = LuceneBM25Model(dictionary=dictionary, k1=0.9, b=0.4)
    index = SparseMatrixSimilarity(
        model[[dictionary.doc2bow(tokens) for tokens in corpus]],
        num_docs=len(corpus),
        num_terms=len(dictionary),
        normalize_queries=False,
        normalize_documents=False,
    )
    fd, tmp = tempfile.mkstemp(dir=OUT.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        for ex in examples:
            scores = index[model[dictionary.doc2bow(analyzer.analyze(ex["query"]))]].tolist()
            excluded = set(ex["excluded_ids"]) - {"N/A"}
            kept = [(doc["id"], s) for doc, s in zip(docs, scores) if doc["id"] not in excluded]
            best = sorted(kept, key=lambda pair: pair[1], reverse=True)[:KEEP]
            fh.write(json.dumps({"query_id": ex["id"], "top": best}) + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, OUT)
    print(f"{len(examples)} queries -> {OUT}")


if __name__ == "__main__":
    main()
