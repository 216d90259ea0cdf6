"""Encode a corpus into an index directory: resumable, appendable, and tied to its model.

`build_index` is the whole of `reasonembed index`:

1. lock the index directory (`reasonembed.io.FolderLock`: a second build into it is refused with
   `FolderLockedError` naming the holder), open (or create) it and refuse it if it was built with
   another model (`Embedder.fingerprint` in the manifest);
2. read the corpus (JSONL or parquet `Document` records; a bad or duplicate id is a `RecordError`
   naming file, line and field) and keep the documents the index does not hold yet — this one rule
   is both "resume after a crash" and "add documents to an existing index";
3. encode them in shards of `shard_size` under a progress bar, each shard written atomically
   (store.py), so a kill loses at most the shard in flight;
4. (re)build the FAISS index over all vectors — exact flat, or IVF/HNSW with the recall@10 of the
   approximate index against exact measured and stored — into a new file;
5. write the manifest (the commit point, store.py): model (the bundled one by name, model_ref.py),
   fingerprint, pooling, dims, count, the shards and FAISS file with their sizes and sha256, query
   instruction and template, ANN parameters, optional BM25 side index, provenance. Until then an
   index being extended stays readable as it was.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed import model_ref
from reasonembed.corpus import iter_corpus
from reasonembed.errors import ConfigError
from reasonembed.index import ann
from reasonembed.index.store import MANIFEST, IndexStore, IndexStoreError, file_entry
from reasonembed.io import FolderLock, atomic_write

logger = logging.getLogger(__name__)

# Constructor arguments of Embedder that change vectors or query text; stored so the index can
# re-create the exact embedder it was built with (`embedder_from_manifest`).
EMBEDDER_KEYS = (
    "pooling",
    "normalize",
    "dtype",
    "max_query_length",
    "max_doc_length",
    "query_template",
    "revision",
)


@dataclass
class BuildReport:
    """What one `build_index` call did (printed by the CLI, returned to Python callers)."""

    root: str
    added: int
    skipped_existing: int
    count: int
    kind: str
    seconds: float
    recall_at_10: float | None = None
    ann_params: dict[str, Any] = field(default_factory=dict)


def read_corpus(path: str | Path) -> list[tuple[str, str]]:
    """(id, text) for every document, read by the one corpus reader (`reasonembed.corpus`): missing
    fields, empty texts, duplicate ids and an empty file raise RecordError naming file, line, field."""
    return [(doc_id, text) for _, doc_id, text, _ in iter_corpus(path, require_text=True)]


def embedder_settings(embedder: Any) -> dict[str, Any]:
    """The constructor settings in EMBEDDER_KEYS, read from attributes (describe() would re-hash the weights)."""
    attrs = {"dtype": "dtype_name"}
    return {key: getattr(embedder, attrs.get(key, key), None) for key in EMBEDDER_KEYS}


def embedder_from_manifest(
    manifest: dict[str, Any], model: str | None = None, device: str | None = None
) -> Any:
    """The Embedder an index was built with (or `model` with the same settings, to be checked)."""
    from reasonembed.embedder import Embedder

    settings = dict(manifest.get("embedder", {}))
    return Embedder(model_ref.resolve(model or manifest["model"]), device=device, **settings)


def build_index(
    corpus: str | Path,
    out: str | Path,
    embedder: Any,
    *,
    kind: str | None = None,
    ann_params: ann.AnnParams | None = None,
    instruction: str | None = None,
    bm25: bool | str = False,
    shard_size: int = 2048,
    batch_size: int | None = None,
    recall_sample: int = 500,
    show_progress: bool = True,
    lock: bool = True,
    distributed: bool = False,
) -> BuildReport | None:
    """Add every document of `corpus` that `out` does not hold yet, then rebuild the search index.

    `lock=False` when the caller already holds `FolderLock(out, "index")` (the CLI takes it before
    loading the model, so a second build fails at once).

    `distributed=True` under `torchrun --nproc_per_node N` (every rank calls this): each shard of
    documents is encoded by all ranks together (`encoding.encode_corpus`), and rank 0 alone holds the
    lock and writes the index; the other ranks return None.
    """
    from reasonembed.encoding import world

    if shard_size < 1:
        raise ConfigError(f"shard_size must be >= 1, got {shard_size}")
    root = Path(out)
    rank, size = world() if distributed else (0, 1)
    if rank > 0:
        _encode_for_rank_zero(corpus, embedder, shard_size, batch_size)
        return None
    check_index_folder(root)
    with FolderLock(root, "index") if lock else contextlib.nullcontext():
        return _build(corpus, root, embedder, kind, ann_params, instruction, bm25, shard_size, batch_size,
                      recall_sample, show_progress, size > 1)


def _share(positions: list[int] | None) -> list[int]:
    """Rank 0's list of corpus positions still to encode, sent to every rank."""
    import torch.distributed as dist

    holder: list[Any] = [positions]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]


def _encode_shard(embedder: Any, texts: list[str], batch_size: int | None, distributed: bool) -> np.ndarray:
    if not distributed:
        return embedder.encode_documents(texts, batch_size=batch_size)
    from reasonembed.encoding import encode_corpus

    return encode_corpus(embedder, texts, batch_size=batch_size, distributed=True)[0]


def _encode_for_rank_zero(corpus: str | Path, embedder: Any, shard_size: int, batch_size: int | None) -> None:
    """A rank > 0 of a distributed build: the same shards as rank 0, its slice of each encoded."""
    docs = read_corpus(corpus)
    positions = _share(None)
    for start in range(0, len(positions), shard_size):
        _encode_shard(embedder, [docs[i][1] for i in positions[start : start + shard_size]], batch_size, True)


def check_index_folder(root: Path) -> None:
    """Refuse a folder that holds other files and no index (before a lock file is put in it)."""
    if (root / MANIFEST).exists() or not root.exists():
        return
    if any(path.name != ".lock" for path in root.iterdir()):
        raise IndexStoreError(f"{root}: exists, is not empty and is not an index; choose another --out")


def _build(
    corpus: str | Path,
    root: Path,
    embedder: Any,
    kind: str | None,
    ann_params: ann.AnnParams | None,
    instruction: str | None,
    bm25: bool | str,
    shard_size: int,
    batch_size: int | None,
    recall_sample: int,
    show_progress: bool,
    distributed: bool = False,
) -> BuildReport:
    started = time.perf_counter()
    fingerprint = embedder.fingerprint
    store = _open_or_create(root, embedder, fingerprint, instruction)
    params = _choose_params(store.manifest.get("ann"), kind, ann_params)

    docs = read_corpus(corpus)
    store.remove_orphans()
    existing = set(store.read_ids())
    positions = [i for i, (docid, _) in enumerate(docs) if docid not in existing]
    if distributed:
        _share(positions)  # the other ranks encode the same documents in the same shards
    todo = [docs[i] for i in positions]
    skipped = len(docs) - len(todo)
    if skipped:
        logger.info(
            "%s: %d of %d documents already indexed, %d to encode", root, skipped, len(docs), len(todo)
        )
    bm25_entry = _bm25_entry(bm25, store.manifest)
    if store.manifest.get("status") != "complete":
        store.write_manifest(status="building", bm25=bm25_entry)
    # else: the manifest keeps describing the previous complete index until the new one is written

    from tqdm.auto import tqdm

    with tqdm(total=len(todo), desc="index", unit="doc", disable=not show_progress) as bar:
        for start in range(0, len(todo), shard_size):
            chunk = todo[start : start + shard_size]
            vectors = _encode_shard(embedder, [t for _, t in chunk], batch_size, distributed)
            store.write_shard(store.next_shard_name(), [i for i, _ in chunk], [t for _, t in chunk], vectors)
            bar.update(len(chunk))

    shards = store.complete_shards()
    vectors = store.read_vectors(shards)
    recall, resolved, faiss_file = _write_ann(store, vectors, params, recall_sample)
    count = int(vectors.shape[0])
    previous_faiss = store.faiss_path
    store.write_manifest(
        status="complete",
        count=count,
        dim=int(vectors.shape[1]) if count else embedder.dim,
        shards=store.shard_entries(shards),
        ann={**resolved.to_dict(), "recall_at_10": recall, "recall_sample": min(recall_sample, count)},
        faiss=None if faiss_file is None else {"file": faiss_file.name, **file_entry(faiss_file)},
        bm25=bm25_entry,
        updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    for stale in [previous_faiss, *store.root.glob("faiss-*.index*")]:
        if stale != faiss_file and stale.exists():
            stale.unlink()  # committed away (or a killed run's leftover): no reader opens it
    report = BuildReport(
        root=str(root),
        added=len(todo),
        skipped_existing=skipped,
        count=count,
        kind=resolved.kind,
        seconds=time.perf_counter() - started,
        recall_at_10=recall,
        ann_params=resolved.to_dict(),
    )
    logger.info(
        "index %s: %d documents (+%d), kind %s, recall@10 %s", root, count, len(todo), resolved.kind, recall
    )
    return report


def _open_or_create(root: Path, embedder: Any, fingerprint: str, instruction: str | None) -> IndexStore:
    if (root / MANIFEST).exists():
        store = IndexStore.open(root, must_be_complete=False)
        store.check_fingerprint(fingerprint, embedder.model_name_or_path, embedder_settings(embedder))
        if instruction is not None and instruction != store.manifest.get("instruction"):
            store.write_manifest(instruction=instruction)
        return store
    check_index_folder(root)
    from reasonembed.config import provenance_stamp

    store = IndexStore(root=root)
    store.write_manifest(
        status="building",
        model=model_ref.portable(embedder.model_name_or_path),
        fingerprint=fingerprint,
        embedder=embedder_settings(embedder),
        pooling=embedder.pooling,
        dim=embedder.dim,
        count=0,
        instruction=instruction if instruction is not None else (embedder.instruction or ""),
        query_template=embedder.query_template,
        document_instruction=None,  # documents are encoded raw (DESIGN.md)
        created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        provenance=provenance_stamp(),
    )
    return store


def _choose_params(
    previous: dict[str, Any] | None, kind: str | None, given: ann.AnnParams | None
) -> ann.AnnParams:
    """Explicit parameters win; otherwise an existing index keeps its kind and settings; else flat."""
    if given is not None:
        return (
            given
            if kind is None or given.kind == kind
            else ann.AnnParams(**{**given.to_dict(), "kind": kind})
        )
    if previous and (kind is None or kind == previous.get("kind")):
        fields = ann.AnnParams.__dataclass_fields__
        return ann.AnnParams(**{key: value for key, value in previous.items() if key in fields})
    return ann.AnnParams(kind=kind or "flat")


def _bm25_entry(requested: bool | str, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """BM25 is rebuilt from the stored texts at load time (seconds); once asked for, it stays on.

    `requested` is True (classic Okapi), a variant name of retrieval/bm25.py, or False.
    """
    previous = manifest.get("bm25")
    if not requested:
        return previous
    variant = requested if isinstance(requested, str) else (previous or {}).get("variant", "classic")
    if variant not in ("classic", "bm25q"):
        raise ConfigError(f"BM25 variant {variant!r} is not one of classic, bm25q")
    return {"variant": variant, "built_from": "shards/*.jsonl"}


def _write_ann(
    store: IndexStore, vectors: np.ndarray, params: ann.AnnParams, recall_sample: int
) -> tuple[float | None, ann.AnnParams, Path | None]:
    """Flat needs no file (rebuilt from the shards on load); IVF/HNSW are trained, measured and saved
    under a name not used by the committed index (`faiss-NNNNNN.index`), returned as the third item."""
    import faiss

    resolved = params.resolved(vectors.shape[0])
    if resolved.kind == "flat":
        return None, resolved, None
    index = _extend_existing(store, vectors, resolved)
    if index is None:
        index = ann.build_ann(vectors, resolved)
    ann.configure(index, resolved)
    recall = ann.recall_at_k(index, vectors, k=10, sample=recall_sample)
    path = _next_faiss_path(store)
    atomic_write(path, faiss.serialize_index(index).tobytes())
    return recall, resolved, path


def _next_faiss_path(store: IndexStore) -> Path:
    """faiss-000001.index, -000002, ...: one more than any on disk (leftovers of a killed run included)."""
    numbers = [int(p.name[6:12]) for p in store.root.glob("faiss-[0-9][0-9][0-9][0-9][0-9][0-9].index*")]
    return store.root / f"faiss-{max(numbers, default=0) + 1:06d}.index"


def _extend_existing(store: IndexStore, vectors: np.ndarray, params: ann.AnnParams) -> Any | None:
    """Reuse a trained IVF/HNSW index of the same kind and parameters: add only the new rows."""
    import faiss

    path = store.faiss_path
    if store.manifest.get("status") != "complete":
        return None
    try:
        store.verify()  # never extend a damaged file: train a new one instead
    except IndexStoreError as exc:
        logger.warning("not reusing %s: %s", path, exc)
        return None
    previous = store.manifest.get("ann") or {}
    same = all(previous.get(key) == value for key, value in params.to_dict().items() if key != "nprobe")
    if not path.exists() or not same:
        return None
    index = faiss.read_index(str(path))
    if index.ntotal > vectors.shape[0] or index.d != vectors.shape[1]:
        return None
    if index.ntotal < vectors.shape[0]:
        index.add(vectors[index.ntotal :])
    return index
