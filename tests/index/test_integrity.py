"""Load checks: a damaged index is an IndexStoreError naming the file (CLI: `error:`), never wrong hits;
an append killed half-way leaves the previous complete index readable, and the next run completes it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reasonembed.cli import app
from reasonembed.index import IndexStoreError, build_index, load_index, open_searcher
from reasonembed.index.store import IndexStore


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, write_corpus, theoremqa_docs, embedder) -> dict[str, Path]:
    """A flat and an HNSW index of 10 documents in shards of 4 (4, 4, 2), built once."""
    root = tmp_path_factory.mktemp("pristine")
    corpus = write_corpus(root / "docs.jsonl", theoremqa_docs[:10])
    out = {}
    for kind in ("flat", "hnsw"):
        build_index(corpus, root / kind, embedder, kind=kind, shard_size=4, show_progress=False)
        out[kind] = root / kind
    return out


def copy_of(pristine: dict[str, Path], kind: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(pristine[kind], tmp_path / kind))


def test_manifest_records_size_and_sha256_of_every_file(pristine) -> None:
    manifest = json.loads((pristine["hnsw"] / "manifest.json").read_text())
    for shard in manifest["shards"]:
        for suffix in ("npy", "jsonl"):
            path = pristine["hnsw"] / "shards" / f"{shard['name']}.{suffix}"
            assert shard[suffix]["bytes"] == path.stat().st_size and len(shard[suffix]["sha256"]) == 64
    faiss_file = pristine["hnsw"] / manifest["faiss"]["file"]
    assert faiss_file.exists() and manifest["faiss"]["bytes"] == faiss_file.stat().st_size


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:-100])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[-7] ^= 0xFF  # inside the last vector (or the last record)
    path.write_bytes(bytes(data))


def _edit_manifest(root: Path, change) -> None:
    manifest = json.loads((root / "manifest.json").read_text())
    change(manifest)
    (root / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = {
    "truncated npy": ("flat", lambda r: _truncate(r / "shards" / "00001.npy"), r"00001\.npy: is \d+ bytes, the manifest says"),
    "flipped npy": ("flat", lambda r: _flip(r / "shards" / "00002.npy"), r"00002\.npy: sha256 differs"),
    "flipped jsonl": ("flat", lambda r: _flip(r / "shards" / "00000.jsonl"), r"00000\.jsonl: sha256 differs"),
    "missing npy": ("flat", lambda r: (r / "shards" / "00001.npy").unlink(), r"00001\.npy: missing"),
    "bad json manifest": ("flat", lambda r: (r / "manifest.json").write_text('{"status": "comp'), "manifest.json: unreadable manifest"),
    "manifest not an object": ("flat", lambda r: (r / "manifest.json").write_text("[1]"), "manifest.json: expected a JSON object"),
    "manifest count wrong": ("flat", lambda r: _edit_manifest(r, lambda m: m.update(count=11)), "count is 11, the shards hold 10"),
    "manifest dim wrong": ("flat", lambda r: _edit_manifest(r, lambda m: m.update(dim=128)), r"00000\.npy: holds 4 vectors of dimension 384, the manifest says 4 of 128"),
    "shard count wrong": ("flat", lambda r: _edit_manifest(r, lambda m: m["shards"][2].update(count=3)), r"00002\.npy: holds 2 vectors .* the manifest says 3"),
    "missing faiss": ("hnsw", lambda r: next(r.glob("faiss*.index")).unlink(), r"faiss-\d+\.index: missing"),
    "flipped faiss": ("hnsw", lambda r: _flip(next(r.glob("faiss*.index"))), r"faiss-\d+\.index: sha256 differs"),
    "truncated faiss": ("hnsw", lambda r: _truncate(next(r.glob("faiss*.index"))), r"faiss-\d+\.index: is \d+ bytes"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_damaged_index_is_refused_naming_the_file(pristine, tmp_path, case) -> None:
    kind, damage, message = DAMAGE[case]
    root = copy_of(pristine, kind, tmp_path)
    damage(root)
    with pytest.raises(IndexStoreError, match=message):
        load_index(root)


def test_cli_reports_a_damaged_index_as_an_error_line(pristine, tmp_path) -> None:
    import subprocess
    import sys

    root = copy_of(pristine, "flat", tmp_path)
    _flip(root / "shards" / "00001.npy")
    result = subprocess.run([sys.executable, "-m", "reasonembed.cli", "search", "--index", str(root), "anything"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "00001.npy: sha256 differs" in result.stderr
    assert "Traceback" not in result.stderr


def test_mismatched_vector_and_id_counts_are_refused(pristine, tmp_path) -> None:
    root = copy_of(pristine, "flat", tmp_path)
    jsonl = root / "shards" / "00000.jsonl"
    lines = jsonl.read_text().splitlines(keepends=True)
    jsonl.write_text("".join(lines[:3]))  # 3 ids for 4 vectors, manifest entry rewritten to match the file
    from reasonembed.index.store import file_entry

    _edit_manifest(root, lambda m: m["shards"][0].update(jsonl=file_entry(jsonl)))
    with pytest.raises(IndexStoreError, match=r"00000\.jsonl: holds 3 ids for 4 vectors"):
        load_index(root)


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_interrupted_append_keeps_the_previous_index_then_completes(pristine, tmp_path, write_corpus, theoremqa_docs,
                                                                    embedder, killed_at_save, kind) -> None:
    root = copy_of(pristine, kind, tmp_path)
    before = load_index(root).ids
    more = write_corpus(tmp_path / "more.jsonl", theoremqa_docs[:30])
    with killed_at_save(3):  # the 3rd new shard dies, like a kill mid-append
        build_index(more, root, embedder, shard_size=4, show_progress=False)
    assert len(list((root / "shards").glob("*.npy"))) == 5  # two new complete shards on disk ...
    index = load_index(root)  # ... but the committed index is the previous one, intact
    assert index.ids == before and index.count == 10
    doc = theoremqa_docs[3]
    assert open_searcher(root, embedder).search(doc["content"], k=1)[0].docid == doc["id"]

    report = build_index(more, root, embedder, shard_size=4, show_progress=False)
    assert (report.added, report.count) == (12, 30)  # the 8 from the killed run were kept
    assert load_index(root).ids == [d["id"] for d in theoremqa_docs[:30]]
    assert len(list(root.glob("faiss*"))) == (1 if kind == "hnsw" else 0)


def test_cli_index_verifies_nothing_is_left_broken(pristine, tmp_path) -> None:
    """A build that extends an index whose FAISS file is damaged trains a new one instead of crashing."""
    root = copy_of(pristine, "hnsw", tmp_path)
    _flip(next(root.glob("faiss*.index")))
    corpus = tmp_path / "same.jsonl"
    ids, texts = IndexStore.open(root, must_be_complete=False).read_docs()
    corpus.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in zip(ids, texts, strict=True)))
    result = CliRunner().invoke(app, ["index", "--corpus", str(corpus), "--out", str(root)])
    assert result.exit_code == 0, result.output
    assert load_index(root).count == 10


def test_sigkill_mid_append_keeps_the_previous_index(pristine, tmp_path, write_corpus, theoremqa_docs, embedder,
                                                     cli_killed_at) -> None:
    """A real SIGKILL of `reasonembed index` while it appends: the old index loads, the re-run completes it."""
    root = copy_of(pristine, "hnsw", tmp_path)
    corpus = write_corpus(tmp_path / "all.jsonl", theoremqa_docs)
    cli_killed_at(corpus, root, "00005.npy")
    index = load_index(root)
    assert index.ids == [d["id"] for d in theoremqa_docs[:10]]
    report = build_index(corpus, root, embedder, shard_size=4, show_progress=False)
    assert report.count == 60 and load_index(root).ids == [d["id"] for d in theoremqa_docs]
