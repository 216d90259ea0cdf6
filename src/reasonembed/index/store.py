"""The on-disk layout of an index, and the checks that keep it honest.

An index directory holds plain files other tools can read (no pickles)::

    IDX/manifest.json        what built it: model, Embedder.fingerprint, pooling, dims, count,
                             query instruction and template, ANN kind and parameters, recall@10
    IDX/shards/00000.jsonl   {"id", "text"} per row ...
    IDX/shards/00000.npy     ... and the float32 [rows, dim] vectors of the same rows, same order
    IDX/faiss.index          the trained approximate index (IVF/HNSW only; flat is rebuilt on load)

A shard is complete once its `.npy` exists: the `.jsonl` is renamed into place first and the vectors
last, both through a temporary file, so a build killed at any moment leaves only complete shards
plus, at worst, an orphan `.jsonl` that the next run overwrites. Resuming therefore loses and
duplicates nothing.

Vectors are only comparable when the same model made them, so every load is checked against the
manifest's `Embedder.fingerprint` and refuses a different model with `IndexMismatchError`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.errors import ReasonEmbedError
from reasonembed.io import write_json

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SHARDS = "shards"
FAISS_FILE = "faiss.index"


class IndexStoreError(ReasonEmbedError):
    """An index directory is missing, unfinished or unreadable."""


class IndexMismatchError(ReasonEmbedError):
    """The index was built with another model than the one it is being used with."""


@dataclass
class Shard:
    name: str
    count: int


@dataclass
class IndexStore:
    """A view over one index directory: manifest plus complete shards."""

    root: Path
    manifest: dict[str, Any] = field(default_factory=dict)

    # ----------------------------------------------------------------- opening
    @classmethod
    def open(cls, root: str | Path, must_be_complete: bool = True) -> IndexStore:
        root = Path(root)
        path = root / MANIFEST
        if not path.exists():
            raise IndexStoreError(f"{root}: not an index (no {MANIFEST}); build one with `reasonembed index`")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise IndexStoreError(f"{path}: unreadable manifest ({exc})") from None
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexStoreError(
                f"{path}: format_version {manifest.get('format_version')!r}, this reasonembed reads {FORMAT_VERSION}"
            )
        if must_be_complete and manifest.get("status") != "complete":
            raise IndexStoreError(
                f"{root}: the build did not finish (status {manifest.get('status')!r}); re-run the same "
                "`reasonembed index` command to resume it"
            )
        return cls(root=root, manifest=manifest)

    @property
    def shard_dir(self) -> Path:
        return self.root / SHARDS

    # ----------------------------------------------------------------- checks
    def check_fingerprint(self, fingerprint: str, model: str | None = None, settings: dict[str, Any] | None = None) -> None:
        """Refuse to use vectors made by a different model (or pooling, dtype, max length...)."""
        expected = self.manifest.get("fingerprint")
        if expected == fingerprint:
            return
        built = self.manifest.get("embedder") or {}
        diffs = [f"{k} {built[k]!r} vs {v!r}" for k, v in (settings or {}).items() if k in built and built[k] != v]
        why = f"; settings differ: {', '.join(diffs)}" if diffs else ""
        raise IndexMismatchError(
            f"{self.root}: index was built with model {self.manifest.get('model')!r} "
            f"(fingerprint {expected}), but the model given is {model!r} (fingerprint {fingerprint}){why}; "
            "query it with the model it was built with, or build a new index"
        )

    # ----------------------------------------------------------------- shards
    def complete_shards(self) -> list[Shard]:
        """Shards whose vectors were written (sorted by name); orphans and temp files are ignored."""
        if not self.shard_dir.exists():
            return []
        shards = []
        for npy in sorted(self.shard_dir.glob("*.npy")):
            ids = npy.with_suffix(".jsonl")
            if not ids.exists():
                raise IndexStoreError(f"{npy}: vectors without their ids file {ids.name}")
            shards.append(Shard(npy.stem, int(np.load(npy, mmap_mode="r").shape[0])))
        return shards

    def remove_orphans(self) -> None:
        """Delete what a killed build left half-written: temp files and ids without vectors."""
        if not self.shard_dir.exists():
            return
        for path in self.shard_dir.iterdir():
            if path.name.endswith(".tmp") or (
                path.suffix == ".jsonl" and not path.with_suffix(".npy").exists()
            ):
                path.unlink()

    def next_shard_name(self) -> str:
        shards = self.complete_shards()
        return f"{(int(shards[-1].name) + 1) if shards else 0:05d}"

    def write_shard(self, name: str, ids: list[str], texts: list[str], vectors: np.ndarray) -> Shard:
        """Write one shard: ids/texts first, vectors last (the vectors mark it complete)."""
        if len(ids) != len(texts) or len(ids) != vectors.shape[0]:
            raise ValueError(f"shard {name}: {len(ids)} ids, {len(texts)} texts, {vectors.shape[0]} vectors")
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        jsonl = self.shard_dir / f"{name}.jsonl"
        tmp = jsonl.with_name(jsonl.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as handle:
            for docid, text in zip(ids, texts, strict=True):
                handle.write(json.dumps({"id": docid, "text": text}, ensure_ascii=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, jsonl)
        npy = self.shard_dir / f"{name}.npy"
        tmp = npy.with_name(npy.name + ".tmp")
        with tmp.open("wb") as handle:
            np.save(handle, np.ascontiguousarray(vectors, dtype=np.float32))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, npy)
        return Shard(name, len(ids))

    def read_ids(self, shards: list[Shard] | None = None) -> list[str]:
        return [doc["id"] for doc in self._iter_docs(shards)]

    def read_docs(self, shards: list[Shard] | None = None) -> tuple[list[str], list[str]]:
        ids, texts = [], []
        for doc in self._iter_docs(shards):
            ids.append(doc["id"])
            texts.append(doc["text"])
        return ids, texts

    def _iter_docs(self, shards: list[Shard] | None):
        for shard in self.complete_shards() if shards is None else shards:
            path = self.shard_dir / f"{shard.name}.jsonl"
            with path.open(encoding="utf-8") as handle:
                for lineno, line in enumerate(handle, start=1):
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        raise IndexStoreError(f"{path}, line {lineno}: corrupt index shard") from None

    def read_vectors(self, shards: list[Shard] | None = None) -> np.ndarray:
        shards = self.complete_shards() if shards is None else shards
        dim = int(self.manifest.get("dim", 0))
        if not shards:
            return np.zeros((0, dim), dtype=np.float32)
        parts = [np.load(self.shard_dir / f"{s.name}.npy", mmap_mode="r") for s in shards]
        return np.ascontiguousarray(np.concatenate(parts, axis=0), dtype=np.float32)

    # ----------------------------------------------------------------- manifest
    def write_manifest(self, **updates: Any) -> None:
        self.manifest.update(updates)
        self.manifest["format_version"] = FORMAT_VERSION
        write_json(self.root / MANIFEST, self.manifest)
