"""The corpus-embedding cache: keyed on fingerprint + corpus, atomic, never stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasonembed import embedding_cache as cache_mod
from reasonembed.embedding_cache import EmbeddingCache, cache_key


def test_roundtrip_and_key_covers_fingerprint_and_corpus(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    emb = np.arange(6, dtype=np.float32).reshape(3, 2)
    cache.save("fp1", "corpusA", emb)
    np.testing.assert_array_equal(cache.load("fp1", "corpusA", 3), emb)
    assert cache.load("fp2", "corpusA", 3) is None
    assert cache.load("fp1", "corpusB", 3) is None
    assert cache.load("fp1", "corpusA", 4) is None  # wrong row count is a miss, not a crash
    assert len({cache_key("fp1", "corpusA"), cache_key("fp2", "corpusA"), cache_key("fp1", "corpusB")}) == 3


def test_corrupt_entry_is_a_miss(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    npy = cache.save("fp", "c", np.ones((2, 2), dtype=np.float32))
    npy.write_bytes(b"garbage")
    assert cache.load("fp", "c", 2) is None


def test_crash_mid_write_leaves_no_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(handle, array, allow_pickle=False):  # noqa: ARG001
        handle.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_mod.np, "save", explode)
    cache = EmbeddingCache(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        cache.save("fp", "c", np.ones((2, 2), dtype=np.float32))
    assert list(tmp_path.iterdir()) == []  # neither the entry nor a temp file survives
    monkeypatch.undo()
    assert cache.load("fp", "c", 2) is None
