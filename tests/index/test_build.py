"""build_index: manifest, shards, resume after a crash, adding documents, refusing another model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reasonembed.errors import RecordError
from reasonembed.index import IndexMismatchError, IndexStoreError, build_index, load_index, open_searcher
from reasonembed.index.store import IndexStore


def test_manifest_and_vectors_match_the_embedder(flat_index: Path, embedder, theoremqa_docs) -> None:
    manifest = json.loads((flat_index / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["fingerprint"] == embedder.fingerprint
    assert manifest["model"] == "minilm"  # the bundled model by name, not by this venv's path
    assert manifest["pooling"] == "mean"
    assert manifest["dim"] == 384
    assert manifest["count"] == 60
    assert manifest["instruction"] == ""
    assert manifest["query_template"] == embedder.query_template
    assert manifest["bm25"]["variant"] == "classic"
    assert [s["count"] for s in manifest["shards"]] == [25, 25, 10]
    store = IndexStore.open(flat_index)
    ids, texts = store.read_docs()
    assert ids == [d["id"] for d in theoremqa_docs]
    assert texts == [d["content"] for d in theoremqa_docs]
    expected = embedder.encode_documents(texts[:8])
    np.testing.assert_allclose(store.read_vectors()[:8], expected, atol=1e-5)


def test_crash_mid_build_resumes_without_loss_or_duplicates(write_corpus, tmp_path, theoremqa_docs, embedder,
                                                            killed_at_save) -> None:
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:30])
    out = tmp_path / "idx"
    with killed_at_save(2, partial=b"\x93NUMPY partial"):  # the 2nd shard's vectors die half-written
        build_index(corpus, out, embedder, shard_size=10, show_progress=False)
    store = IndexStore.open(out, must_be_complete=False)
    assert store.manifest["status"] == "building"
    assert [s.count for s in store.complete_shards()] == [10]
    with pytest.raises(IndexStoreError, match="did not finish"):
        load_index(out)

    report = build_index(corpus, out, embedder, shard_size=10, show_progress=False)
    assert (report.added, report.skipped_existing, report.count) == (20, 10, 30)
    index = load_index(out)
    assert index.ids == [d["id"] for d in theoremqa_docs[:30]]
    assert not any(p.name.endswith(".tmp") for p in IndexStore.open(out).shard_dir.iterdir())
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, embedder, shard_size=30, show_progress=False)
    np.testing.assert_allclose(IndexStore.open(out).read_vectors(), IndexStore.open(fresh).read_vectors(), atol=1e-5)


def test_adding_documents_extends_the_index(write_corpus, tmp_path, theoremqa_docs, embedder) -> None:
    out = tmp_path / "idx"
    build_index(write_corpus(tmp_path / "a.jsonl", theoremqa_docs[:20]), out, embedder, show_progress=False)
    more = write_corpus(tmp_path / "b.jsonl", theoremqa_docs[15:35])  # 5 already indexed, 15 new
    report = build_index(more, out, embedder, show_progress=False)
    assert (report.added, report.skipped_existing, report.count) == (15, 5, 35)
    searcher = open_searcher(out, embedder)
    target = theoremqa_docs[30]
    assert searcher.search(target["content"], k=1)[0].docid == target["id"]
    assert len(set(load_index(out).ids)) == 35


def test_other_model_is_refused(write_corpus, tmp_path, flat_index, theoremqa_docs, tiny_qwen3_path, minilm_path) -> None:
    from reasonembed.embedder import Embedder

    other = Embedder(tiny_qwen3_path)
    with pytest.raises(IndexMismatchError, match="index was built with model"):
        open_searcher(flat_index, other)
    with pytest.raises(IndexMismatchError):
        build_index(write_corpus(tmp_path / "c.jsonl", theoremqa_docs[:3]), flat_index, other, show_progress=False)
    shorter = Embedder(minilm_path, max_doc_length=64)  # same weights, different document vectors
    with pytest.raises(IndexMismatchError, match="max_doc_length 256 vs 64"):
        open_searcher(flat_index, shorter)


def test_bad_corpus_names_file_line_and_field(write_corpus, tmp_path, embedder) -> None:
    dup = write_corpus(tmp_path / "dup.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}])
    with pytest.raises(RecordError, match=r"dup.jsonl, line 3, field 'id': duplicate document id 'a' \(first at line 1\)"):
        build_index(dup, tmp_path / "i1", embedder, show_progress=False)
    empty = write_corpus(tmp_path / "empty.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "  "}])
    with pytest.raises(RecordError, match="empty.jsonl, line 2, field 'text'"):
        build_index(empty, tmp_path / "i2", embedder, show_progress=False)
    missing = write_corpus(tmp_path / "missing.jsonl", [{"id": "a"}])
    with pytest.raises(RecordError, match="missing.jsonl, line 1, field 'text'"):
        build_index(missing, tmp_path / "i3", embedder, show_progress=False)


def test_refuses_to_write_into_a_foreign_directory(write_corpus, tmp_path, theoremqa_docs, embedder) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious.txt").write_text("keep me")
    with pytest.raises(IndexStoreError, match="not an index"):
        build_index(write_corpus(tmp_path / "d.jsonl", theoremqa_docs[:2]), tmp_path / "out", embedder, show_progress=False)


def test_sigkill_during_cli_build_then_resume(write_corpus, tmp_path, theoremqa_docs, cli_killed_at) -> None:
    """A real SIGKILL of `reasonembed index` mid-build; the re-run completes with every id exactly once."""
    import subprocess

    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs)
    out = tmp_path / "idx"
    cmd = cli_killed_at(corpus, out, "00002.npy")
    store = IndexStore.open(out, must_be_complete=False)
    done = sum(s.count for s in store.complete_shards())
    assert store.manifest["status"] == "building" and 12 <= done < 60
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    index = load_index(out)
    assert index.ids == [d["id"] for d in theoremqa_docs]


def test_manifest_names_the_bundled_model_portably(flat_index, tmp_path, tiny_qwen3_path, minilm_path) -> None:
    """An index copied to a machine whose venv lives elsewhere still finds its model."""
    import shutil

    from reasonembed.index.build import embedder_from_manifest
    from reasonembed.model_ref import portable, resolve

    moved = Path(shutil.copytree(flat_index, tmp_path / "moved"))
    manifest = json.loads((moved / "manifest.json").read_text())
    assert manifest["model"] == "minilm" and minilm_path not in (moved / "manifest.json").read_text()
    searcher = open_searcher(moved)  # builds the embedder the manifest names; fingerprint checked
    assert searcher.embedder.model_name_or_path == minilm_path
    assert embedder_from_manifest({**manifest, "model": "minilm"}).fingerprint == manifest["fingerprint"]
    assert portable(tiny_qwen3_path) == tiny_qwen3_path and resolve(tiny_qwen3_path) == tiny_qwen3_path
    assert portable(minilm_path + "/") == "minilm" and resolve("minilm") is None
