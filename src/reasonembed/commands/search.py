"""`reasonembed search`: query an index from the shell.

    reasonembed search --index idx "why does ice float?"
    reasonembed search --index idx -k 5 --hybrid --json "why does ice float?"
    reasonembed search --index idx --rewrite --rerank 20 --llm backend=openai --llm model=Qwen3-8B \
        --llm base_urls=[http://127.0.0.1:8000/v1] "why does ice float?"

The model named in the index manifest is loaded (or --model, which must be the same model).
The logic lives in `reasonembed.index.searcher.open_searcher`.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from reasonembed.commands.llm_options import SEARCH_LLM_CACHE, LLMOptions, with_llm_options


@with_llm_options
def search_command(
    query: str = typer.Argument(..., help="The query text."),
    index: Path = typer.Option(..., "--index", "-i", help="Index directory built by `reasonembed index`."),
    k: int = typer.Option(10, "-k", "--k", min=1, help="How many results."),
    hybrid: bool = typer.Option(False, "--hybrid", help="Fuse dense results with BM25 over the stored texts."),
    fusion: str = typer.Option("rrf", "--fusion", help="rrf (reciprocal rank) | score (normalised scores)."),
    instruction: str = typer.Option(None, "--instruction", help="Task instruction for the query (default: the index's)."),
    model: str = typer.Option(None, "--model", "-m", help="Model directory (default: the one in the manifest)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines {rank, id, score, text}."),
    snippet: int = typer.Option(160, "--snippet", help="Characters of text shown per result."),
    device: str = typer.Option(None, "--device", help="torch device (default: cuda if available)."),
    *,
    llm: LLMOptions,
) -> None:
    """Top-k documents for a query, with scores."""
    from reasonembed.errors import ConfigError
    from reasonembed.index.searcher import IndexSearcher, open_searcher
    from reasonembed.serve.app import check_fusion

    if not query.strip():
        raise ConfigError("the query is empty")
    check_fusion(fusion)
    searcher = open_searcher(index, model=model, instruction=instruction, hybrid=hybrid, fusion=fusion, device=device)
    dense = searcher if isinstance(searcher, IndexSearcher) else searcher.first
    searcher = llm.wrap_searcher(searcher, dense.document, SEARCH_LLM_CACHE)
    for rank, hit in enumerate(searcher.search(query, k), start=1):
        text = dense.document(hit.docid)
        if as_json:
            typer.echo(json.dumps({"rank": rank, "id": hit.docid, "score": hit.score, "text": text}, ensure_ascii=False))
        else:
            short = " ".join(text.split())
            short = short if len(short) <= snippet else short[: snippet - 1] + "…"
            typer.echo(f"{rank:>3}  {hit.score:8.4f}  {hit.docid}  {short}")


def register(app: typer.Typer) -> None:
    app.command("search")(search_command)
