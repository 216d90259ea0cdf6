"""Mining uses the project's one embedding cache and one exact top-k core (issue 11)."""

from __future__ import annotations

import json

from reasonembed.config import load_config
from reasonembed.embedding_cache import EmbeddingCache
from reasonembed.evaluation.tasks import corpus_hash
from reasonembed.io import read_jsonl
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_stage
from reasonembed.retrieval.dense import DenseSearcher


def test_mine_caches_in_the_shared_cache_and_ranks_with_the_shared_core(tmp_path, corpus, minilm):
    cfg = load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={tmp_path / 'run'}", "clean.min_chars=100",
                                          "mine.top_k=5", "mine.search_k=40"])
    run_stage("clean", cfg)
    docs = read_jsonl(tmp_path / "run" / "clean" / "corpus.jsonl")
    qpath = tmp_path / "run" / "generate" / "queries.jsonl"
    qpath.parent.mkdir(parents=True)
    queries = [f"a question about {d['text'][20:80]}" for d in docs[:6]]
    with qpath.open("w") as fh:
        for d, text in zip(docs, queries):
            fh.write(json.dumps({"id": f"q-{d['id']}", "source_id": d["id"], "domain": d["domain"], "instruction": "i",
                                 "query": text, "conditions": {}, "provenance": {}}) + "\n")
    run_stage("mine", cfg, embedder=minilm)
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
