"""`reasonembed index`: encode a corpus into a searchable index directory.

    reasonembed index --model runs/model --corpus docs.jsonl --out idx
    reasonembed index --model runs/model --corpus more.jsonl --out idx          # add documents
    reasonembed index --corpus docs.jsonl --out idx --kind hnsw --bm25         # ANN + BM25 side index
    torchrun --nproc_per_node 8 -m reasonembed.cli index --model M --corpus big.jsonl --out idx   # 8 GPUs encode

Re-running the same command after a crash resumes it; pointing it at an index built with another
model is refused; a second build into a folder that one is writing is refused at once (the lock is
taken before the model loads). The logic lives in `reasonembed.index.build.build_index`.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import typer


def index_command(
    corpus: Path = typer.Option(..., "--corpus", "-c", help="Documents: JSONL or parquet with id and text (or content)."),
    out: Path = typer.Option(..., "--out", "-o", help="Index directory (created, resumed, or extended)."),
    model: str = typer.Option(None, "--model", "-m", help="Model directory or hub id (default: bundled all-MiniLM-L6-v2)."),
    kind: str = typer.Option(None, "--kind", help="flat (exact, default) | ivf | hnsw; an existing index keeps its kind."),
    bm25: bool = typer.Option(False, "--bm25", help="Keep a BM25 side index for hybrid search."),
    bm25_variant: str = typer.Option("classic", "--bm25-variant", help="classic (Okapi) | bm25q (BRIGHT's query-side)."),
    instruction: str = typer.Option(None, "--instruction", help="Task instruction stored for queries (default: the model's)."),
    pooling: str = typer.Option(None, "--pooling", help="mean | cls | last_token (default: from the model)."),
    dtype: str = typer.Option(None, "--dtype", help="fp32 (default) | bf16 | fp16 (fp16 on GPU only)."),
    max_doc_length: int = typer.Option(None, "--max-doc-length", help="Document token limit (default: the model's)."),
    max_query_length: int = typer.Option(None, "--max-query-length", help="Query token limit (default: the model's)."),
    batch_size: int = typer.Option(None, "--batch-size", help="Encoding batch size."),
    shard_size: int = typer.Option(2048, "--shard-size", help="Documents per shard (the unit of resume)."),
    nlist: int = typer.Option(0, "--nlist", help="IVF cells (0: ~4*sqrt(n))."),
    nprobe: int = typer.Option(0, "--nprobe", help="IVF cells searched per query (0: max(8, nlist/8))."),
    hnsw_m: int = typer.Option(32, "--hnsw-m", help="HNSW graph degree."),
    ef_search: int = typer.Option(128, "--ef-search", help="HNSW search breadth."),
    recall_sample: int = typer.Option(500, "--recall-sample", help="Corpus vectors used as queries to measure ANN recall@10."),
    device: str = typer.Option(None, "--device", help="torch device (default: cuda if available)."),
) -> None:
    """Encode a corpus (resumable, in shards) and build an exact or approximate FAISS index."""
    from reasonembed.embedder import Embedder
    from reasonembed.index import ann
    from reasonembed.index.build import build_index, check_index_folder, embedder_from_manifest
    from reasonembed.index.store import MANIFEST, IndexStore
    from reasonembed.io import FolderLock
    from reasonembed.model_ref import resolve

    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1  # under torchrun: ranks share the encoding
    main = int(os.environ.get("RANK", "0")) == 0
    if main:
        check_index_folder(out)
    # before the model loads: a second build fails at once (rank 0 alone writes, so it alone locks)
    with FolderLock(out, "index") if main else contextlib.nullcontext():
        if (out / MANIFEST).exists() and not any([model, pooling, dtype, max_doc_length, max_query_length]):
            # extending an index: rebuild exactly the embedder it was made with
            embedder = embedder_from_manifest(IndexStore.open(out, must_be_complete=False).manifest, device=device)
        else:
            embedder = Embedder(
                resolve(model), pooling=pooling, dtype=dtype or "fp32", max_doc_length=max_doc_length,
                max_query_length=max_query_length, device=device, batch_size=batch_size or 32,
            )
        params = None
        if kind is not None:
            params = ann.AnnParams(kind=kind, nlist=nlist, nprobe=nprobe, hnsw_m=hnsw_m, ef_search=ef_search)
        report = build_index(
            corpus, out, embedder, kind=kind, ann_params=params, instruction=instruction,
            bm25=bm25_variant if bm25 else False, shard_size=shard_size, batch_size=batch_size,
            recall_sample=recall_sample, lock=False, distributed=distributed,
        )
    if report is None:  # a rank > 0 of a distributed build: rank 0 reports
        return
    recall = "exact" if report.recall_at_10 is None else f"recall@10 vs exact {report.recall_at_10:.4f}"
    typer.echo(
        f"{report.root}: {report.count} documents ({report.added} added, {report.skipped_existing} already there), "
        f"{report.kind} index, {recall}, {report.seconds:.1f} s"
    )


def register(app: typer.Typer) -> None:
    app.command("index")(index_command)
