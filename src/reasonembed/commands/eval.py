"""`reasonembed eval`: score a model (or BM25) on BRIGHT-layout datasets, BRIGHT's way.

    reasonembed eval --model minilm --dataset ../shared/data/theoremqa_q_dev --no-instruction --out runs/minilm
    reasonembed eval --model bm25 --dataset bright --tasks biology,pony --out runs/bm25
    reasonembed eval --model path/to/checkpoint --dataset bright --query-variant gpt4_reason --out runs/ckpt
    reasonembed eval --model minilm --hybrid bm25 --fusion rrf --dataset DIR --out runs/hybrid
    reasonembed eval --model bm25 --rewrite --rerank 20 --llm backend=openai --llm model=Qwen3-8B \
        --llm base_urls=[http://127.0.0.1:8000/v1] --dataset DIR --out runs/bm25-reason-rerank
    reasonembed eval --rescore runs/bm25/runs --dataset bright --tasks biology,pony --out runs/rescored
    torchrun --nproc_per_node 8 -m reasonembed.cli eval --model M --dataset bright --out runs/m

Writes results.json (every metric per task and per query + manifest), results.md and
runs/<task>.trec under --out. The logic lives in `reasonembed.evaluation.runner` (`evaluate`,
`rescore`); under torchrun each rank encodes a slice of every corpus and rank 0 writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import typer

from reasonembed.commands.llm_options import LLMOptions, with_llm_options


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


@with_llm_options
def eval_command(
    model: str = typer.Option(
        None, "--model", "-m", help="bm25 | bm25q | minilm | a model directory or hub id."
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
    benchmark: str = typer.Option(
        None, "--benchmark", help="bright | r2med | beir | local (default: from the dataset; a folder is BRIGHT only if said)."
    ),
    hybrid: str = typer.Option(None, "--hybrid", help="Fuse --model with a second system: bm25 | bm25q | a model."),
    fusion: str = typer.Option("rrf", "--fusion", help="rrf | score (with --hybrid)."),
    fusion_depth: int = typer.Option(100, "--fusion-depth", help="Hits taken from each side before fusing."),
    rescore: Path = typer.Option(
        None, "--rescore", help="Score an existing TREC run file (or folder of <task>.trec) instead of a model."
    ),
    lenient: bool = typer.Option(
        False, "--lenient-qrels", help="Warn (do not fail) on qrels naming documents missing from the corpus."
    ),
    self_exclude: bool = typer.Option(
        None, "--self-exclude/--no-self-exclude", help="Drop hits whose docid equals the query id (default: on for BEIR)."
    ),
    *,
    llm: LLMOptions,
) -> None:
    """Evaluate a model on BRIGHT-layout data with the official BRIGHT protocol."""
    from reasonembed.encoding import is_main_process
    from reasonembed.errors import ConfigError
    from reasonembed.evaluation.report import markdown_table
    from reasonembed.evaluation.runner import evaluate
    from reasonembed.evaluation.runner import rescore as rescore_run

    if no_instruction and instruction:
        raise ConfigError("--instruction and --no-instruction exclude each other")
    if (model is None) == (rescore is None):
        raise ConfigError("give exactly one of --model and --rescore")
    if rescore is not None and llm.used:
        raise ConfigError("--rewrite/--rerank change the search; they do not apply to --rescore")
    common: dict[str, Any] = {
        "tasks": _split(tasks),
        "query_variant": query_variant,
        "out_dir": out,
        "benchmark": benchmark,
        "self_exclude": self_exclude,
        "lenient": lenient,
        "long_documents": long_documents,
        "top_k": top_k,
    }
    if rescore is not None:
        results = rescore_run(rescore, dataset, **common)
    else:
        instr = None if no_instruction else (instruction if instruction else "auto")
        # Per-task searcher wrappers ((searcher, task) -> searcher), innermost first.
        wrappers = llm.eval_wrappers(out / "llm-cache")
        results = evaluate(
            model,
            dataset,
            instruction=instr,
            cache_dir=cache_dir,
            batch_size=batch_size,
            pooling=pooling,
            dtype=dtype,
            max_query_length=max_query_length,
            max_doc_length=max_doc_length,
            device=device,
            backend=backend,
            hybrid=hybrid,
            fusion=fusion,
            fusion_depth=fusion_depth,
            wrappers=wrappers,
            distributed=int(os.environ.get("WORLD_SIZE", "1")) > 1,
            show_progress=True,
            **common,
        )
    if not is_main_process():
        return
    typer.echo(markdown_table(results))
    typer.echo(f"wrote {out / 'results.json'}, {out / 'results.md'} and {out / 'runs'}/")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
