"""Encode a corpus once: cached, and sharded across processes under `torchrun`.

Why one function: evaluation, ReMixer's mining and the index builder all turn a list of
documents into a float32 matrix with an Embedder, and they must agree on caching and on how a
multi-process run splits the work. (Tokenising in bounded chunks is the Embedder's own job,
`embedder.ENCODE_CHUNK`.)

    emb, cache_hit = encode_corpus(embedder, texts, cache_dir="cache/", corpus_key=corpus_hash)

* **cached** - with `cache_dir`, the matrix is stored in the one embedding cache
  (`embedding_cache.EmbeddingCache`, keyed on `embedder.fingerprint` + `corpus_key`);
* **sharded** - with `distributed=True` under `torchrun --nproc_per_node N` (`WORLD_SIZE` > 1; the process group is
  started with gloo on CPU, nccl on GPU, unless the caller started one) rank r encodes the r-th
  contiguous slice of the corpus and writes it as `shard-<r>-of-<N>.npy` (atomically) into a
  folder every rank can read: `<cache_dir>/shards/<key>/` when a cache is given, else a temporary
  folder made by rank 0 and broadcast (one machine). After a barrier every rank reads all shards
  in rank order, so every rank holds the same matrix as a one-process run, and rank 0 writes the
  cache entry and removes the shards. Only encoding is sharded; scoring is cheap and runs as in
  one process.

`is_main_process()` says whether this process should write reports (rank 0, or no torchrun).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.embedding_cache import EmbeddingCache, cache_key
from reasonembed.io import atomic_open

log = logging.getLogger(__name__)


def world() -> tuple[int, int]:
    """(rank, world size); starts the default process group under torchrun if nobody has."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0, 1
    import torch
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return dist.get_rank(), dist.get_world_size()


def is_main_process() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def _barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _encode(embedder: Any, texts: Sequence[str], batch_size: int | None, show_progress: bool) -> np.ndarray:
    options: dict[str, Any] = {}  # only what was set, so any object with encode_documents(texts) works
    if batch_size:
        options["batch_size"] = batch_size
    if show_progress:
        options["show_progress"] = True
    return np.asarray(embedder.encode_documents(list(texts), **options), dtype=np.float32)


def shard_bounds(n: int, size: int) -> list[tuple[int, int]]:
    """Contiguous [start, end) slices of n items for `size` ranks (sizes differ by at most one)."""
    edges = [n * r // size for r in range(size + 1)]
    return list(zip(edges[:-1], edges[1:]))


def _shard_folder(cache_dir: str | Path | None, key: str, rank: int) -> Path:
    if cache_dir is not None:
        return Path(cache_dir) / "shards" / key
    import torch.distributed as dist

    holder: list[Any] = [tempfile.mkdtemp(prefix="reasonembed-shards-") if rank == 0 else None]
    dist.broadcast_object_list(holder, src=0)
    return Path(holder[0])


def _encode_sharded(
    embedder: Any, texts: Sequence[str], folder: Path, rank: int, size: int,
    batch_size: int | None, show_progress: bool,
) -> np.ndarray:
    folder.mkdir(parents=True, exist_ok=True)
    start, end = shard_bounds(len(texts), size)[rank]
    mine = (
        _encode(embedder, texts[start:end], batch_size, show_progress and rank == 0)
        if end > start
        else np.zeros((0, 0), np.float32)
    )
    with atomic_open(folder / f"shard-{rank:05d}-of-{size:05d}.npy", "wb") as handle:
        np.save(handle, mine, allow_pickle=False)
    log.info("rank %d/%d encoded documents %d..%d", rank, size, start, end)
    _barrier()
    shards = [np.load(folder / f"shard-{r:05d}-of-{size:05d}.npy", allow_pickle=False) for r in range(size)]
    _barrier()  # everyone has read every shard
    if rank == 0:
        shutil.rmtree(folder, ignore_errors=True)
    return np.concatenate([s for s in shards if s.size])


def encode_corpus(
    embedder: Any,
    texts: Sequence[str],
    *,
    corpus_key: str = "",
    cache_dir: str | Path | None = None,
    fingerprint: str | None = None,
    batch_size: int | None = None,
    show_progress: bool = False,
    meta: dict[str, Any] | None = None,
    distributed: bool = False,
) -> tuple[np.ndarray, bool]:
    """Document embeddings [len(texts), dim] float32 and whether they came from the cache.

    `corpus_key` identifies the corpus content (e.g. `tasks.corpus_hash(ids, texts)`); it is
    required with `cache_dir`. `fingerprint` defaults to `embedder.fingerprint`. Sharding needs
    `distributed=True` and every rank calling this function (a caller that runs on rank 0 only,
    like the trainer's periodic evaluation, leaves it False and encodes everything itself).
    """
    cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
    if cache is not None and not corpus_key:
        raise ValueError("encode_corpus: a cache needs the corpus_key (a hash of the corpus content)")
    fp = fingerprint or (getattr(embedder, "fingerprint", "") if cache is not None else "")
    if cache is not None:
        hit = cache.load(fp, corpus_key, len(texts))
        if hit is not None:
            return hit, True
    rank, size = world() if distributed else (0, 1)
    if size > 1:
        folder = _shard_folder(cache_dir, cache_key(fp or "nofp", corpus_key or "nokey"), rank)
        emb = _encode_sharded(embedder, texts, folder, rank, size, batch_size, show_progress)
    else:
        emb = _encode(embedder, texts, batch_size, show_progress)
    if cache is not None and rank == 0:
        cache.save(fp, corpus_key, emb, meta)
    if size > 1:
        _barrier()  # the cache entry exists before any rank moves on
    return emb, False
