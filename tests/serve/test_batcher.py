"""EncodeBatcher: concurrent requests share forward passes and each gets exactly its own rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from reasonembed.serve.batcher import EncodeBatcher

TEXTS = [f"question {i}: what is the integral of x^{i} from 0 to {i + 1}?" for i in range(24)]


def test_concurrent_requests_are_batched_and_exact(serve_embedder) -> None:
    batcher = EncodeBatcher(serve_embedder, max_batch=64, forward_batch=8)
    try:
        expected_docs = serve_embedder.encode_documents(TEXTS)
        expected_queries = serve_embedder.encode_queries(TEXTS, instruction="Find the same theorem.")
        jobs = [(TEXTS[i : i + 2], "document" if i % 4 == 0 else "query") for i in range(0, 24, 2)]
        with ThreadPoolExecutor(len(jobs)) as pool:
            futures = [
                pool.submit(batcher.encode, texts, kind, "Find the same theorem." if kind == "query" else None, True)
                for texts, kind in jobs
            ]
            results = [f.result() for f in futures]
        for (texts, kind), (vectors, counts), start in zip(jobs, results, range(0, 24, 2), strict=True):
            expected = expected_docs if kind == "document" else expected_queries
            np.testing.assert_allclose(vectors, expected[start : start + 2], atol=1e-5)
            assert counts is not None and len(counts) == 2 and all(c > 5 for c in counts)
        assert batcher.texts == 24
        assert batcher.batches < len(jobs)  # one pass per request would be 12; some requests shared one
    finally:
        batcher.close()


def test_errors_reach_the_caller_and_the_worker_survives(serve_embedder) -> None:
    batcher = EncodeBatcher(serve_embedder)
    try:
        with pytest.raises(ValueError, match="kind must be"):
            batcher.submit(["x"], kind="image")
        with pytest.raises((TypeError, ValueError)):
            batcher.encode([None], "document")  # the tokenizer refuses; the error is re-raised here
        vectors, _ = batcher.encode(["still alive"], "document")
        assert vectors.shape == (1, 384)
    finally:
        batcher.close()
