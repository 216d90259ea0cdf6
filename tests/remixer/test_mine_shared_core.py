"""Mining uses the project's one embedding cache and one exact top-k core (issue 11)."""

from __future__ import annotations

from synth_helpers import mine_own_queries

from reasonembed.embedding_cache import EmbeddingCache
from reasonembed.evaluation.tasks import corpus_hash
from reasonembed.io import read_jsonl
from reasonembed.retrieval.dense import DenseSearcher


def _question(doc: dict) -> str:
    return f"a question about {doc['text'][20:80]}"


def test_mine_caches_in_the_shared_cache_and_ranks_with_the_shared_core(tmp_path, corpus, minilm):
    docs = mine_own_queries(corpus, tmp_path / "run", minilm, _question, n=6)
    queries = [_question(d) for d in docs[:6]]
    pool = sorted(d["id"] for d in docs)
    texts = {d["id"]: d["text"] for d in docs}
    cached = EmbeddingCache(tmp_path / "run" / "mine" / "embedding-cache").load(
        minilm.fingerprint, corpus_hash(pool, [texts[i] for i in pool]), len(pool))
    assert cached is not None
    exact = DenseSearcher(pool, cached).search_embeddings(minilm.encode_queries(queries),
                                                        [f"q-{d['id']}" for d in docs[:6]], 40)
    for rec in read_jsonl(tmp_path / "run" / "mine" / "candidates.jsonl"):
        source = rec["query_id"][2:]
        expected = [h.docid for h in exact[rec["query_id"]] if h.docid != source][:5]
        assert [c["doc_id"] for c in rec["candidates"]] == expected
