"""The one document-embedding cache (evaluation and ReMixer's mining), keyed on everything that
changes the embeddings.

Why: the official BRIGHT harness keys its document cache on model name, task and batch size,
not on the checkpoint, so evaluating a second fine-tuned checkpoint silently reuses the first
one's embeddings (METHOD.md B.8). Here the key is

    sha256(Embedder.fingerprint, corpus content hash, format version)

where the fingerprint covers the weights, pooling, dtype, max lengths and normalisation, and the
corpus hash covers every id and text in order. A changed checkpoint, max length, pooling, dtype
or corpus therefore can never hit a stale entry.

Layout: `<root>/<key>.npy` (float32 [n_docs, dim]) and `<root>/<key>.json` (what made it). Both
are written with `io.atomic_open` (temporary file, fsync, rename), so a crash never leaves a
half-written entry under a valid name; an unreadable or wrong-shaped entry is treated
as a miss and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.io import atomic_open

log = logging.getLogger(__name__)
CACHE_FORMAT = 1


def cache_key(fingerprint: str, corpus_hash: str) -> str:
    payload = json.dumps(
        {"fingerprint": fingerprint, "corpus": corpus_hash, "format": CACHE_FORMAT}, sort_keys=True
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Document embeddings on disk, one entry per (fingerprint, corpus)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def paths(self, key: str) -> tuple[Path, Path]:
        return self.root / f"{key}.npy", self.root / f"{key}.json"

    def load(self, fingerprint: str, corpus_hash: str, n_docs: int) -> np.ndarray | None:
        npy, meta = self.paths(cache_key(fingerprint, corpus_hash))
        if not (npy.exists() and meta.exists()):
            return None
        try:
            array = np.load(npy, allow_pickle=False)
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable cache entry %s (%s)", npy, exc)
            return None
        if (
            array.ndim != 2
            or array.shape[0] != n_docs
            or info.get("fingerprint") != fingerprint
            or info.get("corpus_hash") != corpus_hash
        ):
            log.warning("ignoring cache entry %s: it does not match this corpus/model", npy)
            return None
        return array.astype(np.float32, copy=False)

    def save(
        self, fingerprint: str, corpus_hash: str, embeddings: np.ndarray, meta: dict[str, Any] | None = None
    ) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        npy, meta_path = self.paths(cache_key(fingerprint, corpus_hash))
        array = np.ascontiguousarray(embeddings, dtype=np.float32)
        with atomic_open(npy, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        info = {
            "fingerprint": fingerprint,
            "corpus_hash": corpus_hash,
            "shape": list(array.shape),
            "format": CACHE_FORMAT,
            **(meta or {}),
        }
        with atomic_open(meta_path, "w") as handle:
            handle.write(json.dumps(info, indent=2, ensure_ascii=False, default=str))
        return npy
