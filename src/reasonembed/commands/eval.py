"""`reasonembed eval`: score a model (or BM25) on BRIGHT-layout datasets, BRIGHT's way.

    reasonembed eval --model minilm --dataset ../shared/data/theoremqa_q_dev --no-instruction --out runs/minilm
    reasonembed eval --model bm25 --dataset bright --tasks biology,pony --out runs/bm25
    reasonembed eval --model path/to/checkpoint --dataset bright --query-variant gpt4_reason --out runs/ckpt

Writes results.json (every metric per task and per query + manifest), results.md and
runs/<task>.trec under --out. The logic lives in `reasonembed.evaluation.runner.evaluate`.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def eval_command(
    model: str = typer.Option(
        ..., "--model", "-m", help="bm25 | bm25q | minilm | a model directory or hub id."
    ),
    dataset: str = typer.Option(
        ..., "--dataset", "-d", help="bright | r2med | a local folder (BRIGHT, BEIR or R2MED layout)."
    ),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Output folder for results.json, results.md and runs/."
    ),
    tasks: list[str] = typer.Option(
        None, "--tasks", "-t", help="Task names, comma-separated or repeated (default: all)."
    ),
    query_variant: str = typer.Option(
        "examples", "--query-variant", help="examples | gpt4_reason | claude-3-opus_reason | ..."
    ),
    instruction: str = typer.Option(
        None,
        "--instruction",
        help="One instruction for every task (default: per-task reference instructions).",
    ),
    no_instruction: bool = typer.Option(
        False, "--no-instruction", help="Encode raw queries, no instruction."
    ),
    long_documents: bool = typer.Option(
        False, "--long-documents", help="BRIGHT long-document setting (gold_ids_long)."
    ),
    pooling: str = typer.Option(None, "--pooling", help="mean | cls | last_token (default: from the model)."),
    dtype: str = typer.Option("fp32", "--dtype", help="fp32 | bf16 | fp16 (fp16 on GPU only)."),
    max_query_length: int = typer.Option(
        None, "--max-query-length", help="Query token limit (default: the model's)."
    ),
    max_doc_length: int = typer.Option(
        None, "--max-doc-length", help="Document token limit (default: the model's)."
    ),
    batch_size: int = typer.Option(None, "--batch-size", help="Encoding batch size."),
    cache_dir: Path = typer.Option(
        None, "--cache-dir", help="Document-embedding cache folder (keyed on model fingerprint + corpus)."
    ),
    top_k: int = typer.Option(1000, "--top-k", help="Hits kept per query (BRIGHT: 1000)."),
    device: str = typer.Option(None, "--device", help="torch device (default: cuda if available)."),
    backend: str = typer.Option("auto", "--backend", help="auto | numpy | faiss (both exact)."),
) -> None:
    """Evaluate a model on BRIGHT-layout data with the official BRIGHT protocol."""
    from reasonembed.errors import ConfigError
    from reasonembed.evaluation.report import markdown_table
    from reasonembed.evaluation.runner import evaluate

    if no_instruction and instruction:
        raise ConfigError("--instruction and --no-instruction exclude each other")
    instr = None if no_instruction else (instruction if instruction else "auto")
    results = evaluate(
        model,
        dataset,
        tasks=_split(tasks),
        query_variant=query_variant,
        instruction=instr,
        out_dir=out,
        long_documents=long_documents,
        top_k=top_k,
        cache_dir=cache_dir,
        batch_size=batch_size,
        pooling=pooling,
        dtype=dtype,
        max_query_length=max_query_length,
        max_doc_length=max_doc_length,
        device=device,
        backend=backend,
        show_progress=True,
    )
    typer.echo(markdown_table(results))
    typer.echo(f"wrote {out / 'results.json'}, {out / 'results.md'} and {out / 'runs'}/")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
