"""The corpus-embedding cache: keyed on fingerprint + corpus, atomic, never stale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasonembed.evaluation import cache as cache_mod
from reasonembed.evaluation import runner
from reasonembed.evaluation.cache import EmbeddingCache, cache_key
from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.runner import evaluate


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


def test_changed_model_settings_or_checkpoint_never_reuse_the_cache(
    tiny_task: Path, tmp_path: Path, minilm_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from reasonembed.embedder import Embedder

    cache_dir = tmp_path / "cache"

    def run(model, **kw):
        res = evaluate(model, tiny_task, cache_dir=cache_dir, instruction=None, **kw)
        return res["tasks"]["tiny"]["cache_hit"], res["tasks"]["tiny"]["metrics"]["ndcg@10"]

    base = Embedder(minilm_path)
    task = load_eval_dataset(tiny_task).tasks["tiny"]
    whole, _ = runner._encode_corpus(base, task, None, None, False, "fp")
    monkeypatch.setattr(runner, "ENCODE_CHUNK", 4)  # 10 documents in 3 chunks: same vectors, same order
    chunked, _ = runner._encode_corpus(base, task, None, None, False, "fp")
    np.testing.assert_allclose(chunked, whole, atol=1e-5)
    first = run(base)
    assert first[0] is False
    assert run(base) == (True, first[1])  # same model, same corpus: reused, same score
    for changed in ({"max_doc_length": 16}, {"pooling": "cls"}, {"dtype": "bf16"}):
        assert run(minilm_path, **changed)[0] is False, changed
    saved = base.save(tmp_path / "copy")
    assert run(str(saved))[0] is True  # identical weights and settings under another path
    tuned = Embedder(str(saved))
    with torch.no_grad():
        next(tuned.backbone.parameters())[0, 0] += 1e-3  # "a new checkpoint"
    assert run(tuned)[0] is False
    assert len(list(cache_dir.glob("*.npy"))) == 5
