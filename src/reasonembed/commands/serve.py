"""`reasonembed serve`: the HTTP API and search page over an index (FastAPI + uvicorn).

    reasonembed serve --index idx                          # http://127.0.0.1:8000/
    REASONEMBED_API_KEY=secret reasonembed serve --index idx --host 0.0.0.0 --port 8080
    reasonembed serve --model runs/model                   # /v1/embeddings only, no index

The API key, when the environment variable (default REASONEMBED_API_KEY) is set, is required as
`Authorization: Bearer <key>` on /v1/* and /search. Requests must send a Host header naming
localhost, 127.0.0.1, [::1], the bound --host or one of --allowed-hosts (DNS-rebinding protection).
Options are checked before anything loads. The app lives in `reasonembed.serve.app`.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer


def serve_command(
    index: Path = typer.Option(None, "--index", "-i", help="Index directory (omit to serve embeddings only)."),
    model: str = typer.Option(None, "--model", "-m", help="Model directory (default: the index's; bundled MiniLM without index)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address."),
    port: int = typer.Option(8000, "--port", help="Port."),
    hybrid: bool = typer.Option(False, "--hybrid", help="Offer BM25 fusion and make it the default for /search."),
    fusion: str = typer.Option("rrf", "--fusion", help="rrf | score."),
    api_key_env: str = typer.Option("REASONEMBED_API_KEY", "--api-key-env", help="Environment variable holding the API key."),
    model_name: str = typer.Option(None, "--model-name", help="Model id clients send (default: the model directory's name)."),
    max_inputs: int = typer.Option(256, "--max-inputs", help="Most strings per /v1/embeddings request."),
    max_input_chars: int = typer.Option(20000, "--max-input-chars", help="Most characters per input or query."),
    max_body_bytes: int = typer.Option(4 * 1024 * 1024, "--max-body-bytes", help="Largest request body."),
    max_k: int = typer.Option(100, "--max-k", help="Most results per /search request."),
    max_batch: int = typer.Option(None, "--max-batch", help="Texts encoded together across concurrent requests (default: 128 on GPU, 1 on CPU)."),
    forward_batch: int = typer.Option(8, "--forward-batch", help="Texts per forward pass (length-sorted; small is best on CPU)."),
    turn_size: int = typer.Option(None, "--turn-size", help="Texts of one request encoded before the next request gets a turn (default: --forward-batch; 0: whole requests)."),
    max_queue: int = typer.Option(32, "--max-queue", help="Requests that may wait for the model at once; more get 503 + Retry-After (0: no limit)."),
    request_timeout: float = typer.Option(30.0, "--request-timeout", help="Seconds a request may wait for the model before a 504 (0: no limit)."),
    allowed_hosts: str = typer.Option("", "--allowed-hosts", help="Comma-separated Host names accepted besides localhost, 127.0.0.1, [::1] and --host ('*': any)."),
    device: str = typer.Option(None, "--device", help="torch device (default: cuda if available)."),
) -> None:
    """Serve /v1/embeddings (OpenAI format), /search, /healthz and a search page."""
    import uvicorn

    from reasonembed.errors import ConfigError
    from reasonembed.serve.app import check_fusion

    check_fusion(fusion)  # every option is checked before the model and index load
    if max_queue < 0 or request_timeout < 0 or (turn_size is not None and turn_size < 0):
        raise ConfigError("--max-queue, --request-timeout and --turn-size must be >= 0 (0: no limit / whole requests)")
    api_key = os.environ.get(api_key_env) or None
    for line in bind_warnings(host, api_key is not None):
        typer.secho(f"warning: {line}", fg=typer.colors.YELLOW, err=True)

    from reasonembed.embedder import Embedder
    from reasonembed.index.build import embedder_from_manifest
    from reasonembed.index.searcher import IndexSearcher, bm25_searcher, load_index
    from reasonembed.model_ref import resolve
    from reasonembed.serve import ServeLimits, create_app

    searcher = bm25 = None
    if index is not None:
        loaded = load_index(index)
        embedder = embedder_from_manifest(loaded.manifest, model=model, device=device)
        searcher = IndexSearcher(loaded, embedder)
        bm25_info = loaded.manifest.get("bm25")
        if bm25_info or hybrid:
            bm25 = bm25_searcher(loaded.ids, loaded.texts, (bm25_info or {}).get("variant", "classic"))
    else:
        embedder = Embedder(resolve(model), device=device)
    limits = ServeLimits(max_inputs=max_inputs, max_input_chars=max_input_chars, max_body_bytes=max_body_bytes, max_k=max_k)
    app = create_app(
        embedder, searcher, bm25=bm25, hybrid_default=hybrid, fusion=fusion, api_key=api_key, limits=limits,
        model_name=model_name, max_batch=max_batch, forward_batch=forward_batch, turn_size=turn_size,
        max_queue=max_queue or None, request_timeout=request_timeout or None,
        allowed_hosts=[host, *(h.strip() for h in allowed_hosts.split(",") if h.strip())],
    )
    typer.echo(f"serving {'index ' + str(index) if index else 'embeddings'} on http://{host}:{port}/ "
               f"(API key {'required' if api_key else 'off'})")
    uvicorn.run(app, host=host, port=port, log_level="info")


def bind_warnings(host: str, keyed: bool) -> list[str]:
    """What to tell the user about a bind address before serving on it."""
    if host in ("0.0.0.0", "::", "") and not keyed:
        return [f"--host {host} without an API key: anyone who can reach this machine can use the model and read "
                "the index; set REASONEMBED_API_KEY (or --api-key-env), and add the names clients use with --allowed-hosts"]
    return []


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
