"""The HTTP API: OpenAI-compatible embeddings, search over an index, health, and a search page.

    POST /v1/embeddings   OpenAI wire format (works with the official `openai` client)
    GET  /v1/models       the one served model
    POST /search          {"query", "k", "hybrid", "instruction"} -> ranked results with snippets
    GET  /healthz         liveness plus what is loaded
    GET  /                a small search page (serve/static/)
    GET  /docs, /openapi.json

`create_app(embedder, searcher=None, ...)` builds the app around objects made elsewhere (the CLI
loads the index; tests pass small ones). All model work goes through one `EncodeBatcher` thread.
With `api_key` set, /v1/* and /search need `Authorization: Bearer <key>`; the page and /healthz
stay open (the page asks for the key). Bad input never reaches the model: BodyGuard and the limits
in `ServeLimits` answer it with a 4xx that names the problem.
"""

from __future__ import annotations

import base64
import hmac
import time
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from reasonembed import __version__
from reasonembed.serve.batcher import EncodeBatcher
from reasonembed.serve.guard import ApiError, BodyGuard, install_error_handlers
from reasonembed.serve.schemas import (
    ERROR_RESPONSES,
    EmbeddingData,
    EmbeddingRequest,
    EmbeddingResponse,
    Health,
    ModelCard,
    ModelList,
    SearchRequest,
    SearchResponse,
    SearchResult,
    ServeLimits,
    Usage,
    apply_limits,
)

STATIC = Path(__file__).parent / "static"
API_KEY_ENV = "REASONEMBED_API_KEY"


def served_model_name(model_name_or_path: str) -> str:
    """The id clients send as `model`: the model directory's name (the bundled MiniLM by its own name)."""
    from reasonembed.embedder import default_model_path

    if Path(model_name_or_path) == Path(default_model_path()):
        return "all-MiniLM-L6-v2"
    return Path(str(model_name_or_path).rstrip("/")).name or str(model_name_or_path)


def create_app(
    embedder: Any,
    searcher: Any | None = None,
    *,
    bm25: Any | None = None,
    hybrid_default: bool = False,
    fusion: str = "rrf",
    api_key: str | None = None,
    limits: ServeLimits | None = None,
    model_name: str | None = None,
    max_batch: int | None = None,
    forward_batch: int = 8,
) -> FastAPI:
    """Build the app. `searcher` is an IndexSearcher (None: embeddings only); `bm25` enables hybrid.

    `max_batch` caps the texts encoded together from concurrent requests (1 = one request at a time;
    None = 128 on a GPU, 1 on CPU, where batching measured slower, see batcher.py); `forward_batch`
    is the texts per forward pass within that (length-sorted).
    """
    limits = limits or ServeLimits()
    if max_batch is None:
        on_gpu = getattr(getattr(embedder, "device_", None), "type", "cpu") == "cuda"
        max_batch = 128 if on_gpu else 1
    batcher = embedder if isinstance(embedder, EncodeBatcher) else EncodeBatcher(embedder, max_batch, forward_batch)
    if searcher is not None:
        searcher.embedder = batcher  # queries go through the same single model thread
    name = model_name or served_model_name(batcher.model_name_or_path)
    accepted_names = {name}

    app = FastAPI(
        title="reasonembed",
        version=__version__,
        description="OpenAI-compatible embeddings and search over a reasonembed index.",
    )
    app.state.batcher = batcher
    app.add_middleware(BodyGuard, max_bytes=limits.max_body_bytes)
    install_error_handlers(app)
    bearer = HTTPBearer(auto_error=False, description=f"API key (server reads it from ${API_KEY_ENV})")

    def require_key(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        if credentials is None:
            raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")
        if not hmac.compare_digest(credentials.credentials.encode(), api_key.encode()):
            raise ApiError(401, "wrong API key", code="invalid_api_key")

    # Only a keyed server declares (and enforces) the bearer scheme in its OpenAPI schema.
    guarded = [Depends(require_key)] if api_key is not None else []

    def check_text(text: str, field: str) -> None:
        if not text.strip():
            raise ApiError(400, f"{field} is empty", param=field)
        if len(text) > limits.max_input_chars:
            raise ApiError(
                400, f"{field} has {len(text)} characters; this server accepts at most {limits.max_input_chars}", param=field
            )

    @app.post("/v1/embeddings", response_model=EmbeddingResponse, responses=ERROR_RESPONSES, dependencies=guarded)
    def embeddings(request: EmbeddingRequest) -> EmbeddingResponse:
        if request.model not in accepted_names:
            raise ApiError(404, f"model {request.model!r} is not served here; this server serves {name!r}", "model", "model_not_found")
        texts = [request.input] if isinstance(request.input, str) else request.input
        if not texts:
            raise ApiError(400, "input is an empty list; send at least one string", param="input")
        if len(texts) > limits.max_inputs:
            raise ApiError(400, f"input has {len(texts)} items; this server accepts at most {limits.max_inputs}", "input")
        for i, text in enumerate(texts):
            check_text(text, "input" if isinstance(request.input, str) else f"input[{i}]")
        if request.instruction is not None and len(request.instruction) > limits.max_input_chars:
            raise ApiError(400, f"instruction is longer than {limits.max_input_chars} characters", param="instruction")
        if request.dimensions is not None and request.dimensions != batcher.dim:
            raise ApiError(400, f"this model produces {batcher.dim}-dimensional vectors; omit 'dimensions' or send {batcher.dim}", "dimensions")
        vectors, counts = batcher.encode(texts, request.input_type, request.instruction, count_tokens=True)
        data = [
            EmbeddingData(index=i, embedding=_encode_vector(vec, request.encoding_format)) for i, vec in enumerate(vectors)
        ]
        tokens = int(sum(counts or []))
        return EmbeddingResponse(data=data, model=name, usage=Usage(prompt_tokens=tokens, total_tokens=tokens))

    @app.get("/v1/models", response_model=ModelList, responses=ERROR_RESPONSES, dependencies=guarded)
    def models() -> ModelList:
        return ModelList(data=[ModelCard(id=name)])

    @app.post("/search", response_model=SearchResponse, responses=ERROR_RESPONSES, dependencies=guarded)
    def search(request: SearchRequest) -> SearchResponse:
        if searcher is None:
            raise ApiError(404, "no index is loaded; start the server with `reasonembed serve --index IDX`")
        check_text(request.query, "query")
        if request.k > limits.max_k:
            raise ApiError(400, f"k is {request.k}; this server returns at most {limits.max_k} results", param="k")
        if request.instruction is not None and len(request.instruction) > limits.max_input_chars:
            raise ApiError(400, f"instruction is longer than {limits.max_input_chars} characters", param="instruction")
        hybrid = hybrid_default if request.hybrid is None else request.hybrid
        if hybrid and bm25 is None:
            raise ApiError(400, "hybrid search is not available: build the index with --bm25 or serve with --hybrid", "hybrid")
        started = time.perf_counter()
        dense = searcher if request.instruction is None else searcher.with_instruction(request.instruction)
        if hybrid:
            from reasonembed.retrieval.fusion import fuse

            hits = fuse(dense, bm25, fusion).search(request.query, request.k)
        else:
            hits = dense.search(request.query, request.k)
        results = [
            SearchResult(rank=r, id=h.docid, score=h.score, snippet=_snippet(searcher.document(h.docid), limits.snippet_chars))
            for r, h in enumerate(hits, start=1)
        ]
        took = (time.perf_counter() - started) * 1000
        return SearchResponse(query=request.query, k=request.k, hybrid=hybrid, model=name, took_ms=took, results=results)

    @app.get("/healthz", response_model=Health)
    def healthz() -> Health:
        return Health(
            model=name,
            fingerprint=batcher.fingerprint,
            dim=batcher.dim,
            documents=searcher.index.count if searcher is not None else 0,
            index_kind=searcher.index.kind if searcher is not None else None,
            hybrid_available=bm25 is not None,
            auth=api_key is not None,
            encode_batches=batcher.batches,
            encoded_texts=batcher.texts,
        )

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = apply_limits(schema, limits, batcher.dim, sorted(accepted_names), bm25 is not None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _encode_vector(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return vector.astype(np.float32).tolist()


def _snippet(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
