"""The HTTP API: OpenAI-compatible embeddings, search over an index, health, and a search page.

    POST /v1/embeddings   OpenAI wire format (works with the official `openai` client)
    GET  /v1/models       the one served model
    POST /search          {"query", "k", "hybrid", "instruction"} -> ranked results with snippets
    GET  /healthz         liveness plus what is loaded
    GET  /                a small search page (serve/static/)
    GET  /docs            the API reference, rendered from /openapi.json by a local page (no CDN)

The routes are declared once, on the module-level `router`; each app's own objects live in
`app.state.serve` (a `ServeState`), which the handlers read from the request. `create_app(embedder,
searcher=None, ...)` builds that state around objects made elsewhere (the CLI loads the index;
tests pass small ones) and never changes them. All model work goes through one `EncodeBatcher`
thread, behind `Admission` (bounded queue, timeout, disconnects; admission.py). With `api_key` set,
/v1/* and /search need `Authorization: Bearer <key>`; the page and /healthz stay open (the page asks
for the key). Bad input never reaches the model: HostGuard, BodyGuard and the limits in
`ServeLimits` answer it with a 4xx that names the problem.
"""

from __future__ import annotations

import base64
import hmac
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.openapi.utils import get_openapi
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles

from reasonembed import __version__
from reasonembed.errors import ConfigError
from reasonembed.retrieval.base import BatchSearcher, Hit
from reasonembed.serve.admission import Admission
from reasonembed.serve.batcher import EncodeBatcher
from reasonembed.serve.guard import LOCAL_HOSTS, ApiError, BodyGuard, HostGuard, install_error_handlers
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
    from reasonembed.model_ref import BUNDLED, portable

    if portable(model_name_or_path) == BUNDLED:
        return "all-MiniLM-L6-v2"
    return Path(str(model_name_or_path).rstrip("/")).name or str(model_name_or_path)


def check_fusion(fusion: str) -> None:
    from reasonembed.retrieval.fusion import FUSIONS

    if fusion not in FUSIONS:
        raise ConfigError(f"fusion {fusion!r} is not one of {', '.join(FUSIONS)}")


@dataclass
class ServeState:
    """What one app serves; read by the module-level routes from `request.app.state.serve`."""

    batcher: EncodeBatcher
    admission: Admission
    searcher: Any | None  # an IndexSearcher, used for search_vectors() and document() only
    bm25: Any | None
    hybrid_default: bool
    fusion: str
    api_key: str | None
    limits: ServeLimits
    name: str


def state_of(request: Request) -> ServeState:
    return request.app.state.serve


bearer = HTTPBearer(auto_error=False, description=f"API key (server reads it from ${API_KEY_ENV})")


def require_key(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
    key = state_of(request).api_key
    if key is None:
        return
    if credentials is None:
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'", code="invalid_api_key")
    if not hmac.compare_digest(credentials.credentials.encode(), key.encode()):
        raise ApiError(401, "wrong API key", code="invalid_api_key")


router = APIRouter()
guarded = [Depends(require_key)]


def check_text(text: str, field: str, limits: ServeLimits) -> None:
    if not text.strip():
        raise ApiError(400, f"{field} is empty", param=field)
    if len(text) > limits.max_input_chars:
        raise ApiError(400, f"{field} has {len(text)} characters; this server accepts at most {limits.max_input_chars}", param=field)


def check_instruction(instruction: str | None, limits: ServeLimits) -> None:
    if instruction is not None and len(instruction) > limits.max_input_chars:
        raise ApiError(400, f"instruction is longer than {limits.max_input_chars} characters", param="instruction")


@router.post("/v1/embeddings", response_model=EmbeddingResponse, responses=ERROR_RESPONSES, dependencies=guarded)
async def embeddings(body: EmbeddingRequest, request: Request) -> EmbeddingResponse:
    state = state_of(request)
    if body.model != state.name:
        raise ApiError(404, f"model {body.model!r} is not served here; this server serves {state.name!r}", "model", "model_not_found")
    texts = [body.input] if isinstance(body.input, str) else body.input
    if not texts:
        raise ApiError(400, "input is an empty list; send at least one string", param="input")
    if len(texts) > state.limits.max_inputs:
        raise ApiError(400, f"input has {len(texts)} items; this server accepts at most {state.limits.max_inputs}", "input")
    for i, text in enumerate(texts):
        check_text(text, "input" if isinstance(body.input, str) else f"input[{i}]", state.limits)
    check_instruction(body.instruction, state.limits)
    dim = state.batcher.dim
    if body.dimensions is not None and body.dimensions != dim:
        raise ApiError(400, f"this model produces {dim}-dimensional vectors; omit 'dimensions' or send {dim}", "dimensions")
    vectors, counts = await state.admission.encode(request, texts, body.input_type, body.instruction, count_tokens=True)
    data = [EmbeddingData(index=i, embedding=_encode_vector(vec, body.encoding_format)) for i, vec in enumerate(vectors)]
    tokens = int(sum(counts or []))
    return EmbeddingResponse(data=data, model=state.name, usage=Usage(prompt_tokens=tokens, total_tokens=tokens))


@router.get("/v1/models", response_model=ModelList, responses=ERROR_RESPONSES, dependencies=guarded)
def models(request: Request) -> ModelList:
    return ModelList(data=[ModelCard(id=state_of(request).name)])


@router.post("/search", response_model=SearchResponse, responses=ERROR_RESPONSES, dependencies=guarded)
async def search(body: SearchRequest, request: Request) -> SearchResponse:
    state = state_of(request)
    searcher, limits = state.searcher, state.limits
    if searcher is None:
        raise ApiError(404, "no index is loaded; start the server with `reasonembed serve --index IDX`")
    check_text(body.query, "query", limits)
    if body.k > limits.max_k:
        raise ApiError(400, f"k is {body.k}; this server returns at most {limits.max_k} results", param="k")
    check_instruction(body.instruction, limits)
    hybrid = state.hybrid_default if body.hybrid is None else body.hybrid
    if hybrid and state.bm25 is None:
        raise ApiError(400, "hybrid search is not available: build the index with --bm25 or serve with --hybrid", "hybrid")
    started = time.perf_counter()
    instruction = searcher.instruction if body.instruction is None else body.instruction
    vectors, _ = await state.admission.encode(request, [body.query], "query", instruction)
    dense = EncodedQuerySearcher(searcher, vectors)
    if hybrid:
        from reasonembed.retrieval.fusion import fuse

        ranker: Any = fuse(dense, state.bm25, state.fusion)
    else:
        ranker = dense
    hits = await run_in_threadpool(ranker.search, body.query, body.k)  # BM25 over a big corpus takes a while
    results = [
        SearchResult(rank=r, id=h.docid, score=h.score, snippet=_snippet(searcher.document(h.docid), limits.snippet_chars))
        for r, h in enumerate(hits, start=1)
    ]
    took = (time.perf_counter() - started) * 1000
    return SearchResponse(query=body.query, k=body.k, hybrid=hybrid, model=state.name, took_ms=took, results=results)


@router.get("/healthz", response_model=Health)
def healthz(request: Request) -> Health:
    state = state_of(request)
    searcher = state.searcher
    return Health(
        model=state.name,
        fingerprint=state.batcher.fingerprint,
        dim=state.batcher.dim,
        documents=searcher.index.count if searcher is not None else 0,
        index_kind=searcher.index.kind if searcher is not None else None,
        hybrid_available=state.bm25 is not None,
        auth=state.api_key is not None,
        encode_batches=state.batcher.batches,
        encoded_texts=state.batcher.texts,
        queued=state.admission.active,
        refused=state.admission.refused,
        timed_out=state.admission.timed_out,
    )


@router.get("/", include_in_schema=False)
def page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/docs", include_in_schema=False)
def docs() -> FileResponse:
    return FileResponse(STATIC / "docs.html", media_type="text/html")


class EncodedQuerySearcher(BatchSearcher):
    """The index searcher for one query whose vector is already encoded (through the admission queue)."""

    def __init__(self, searcher: Any, vectors: np.ndarray) -> None:
        self.searcher = searcher
        self.vectors = vectors

    def batch_search(self, queries: Sequence[str], qids: Sequence[str], k: int = 10,
                     excluded: Mapping[str, Sequence[str]] | None = None) -> dict[str, list[Hit]]:
        return self.searcher.search_vectors(self.vectors, qids, k, excluded)


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
    turn_size: int | None = None,
    max_queue: int | None = 32,
    request_timeout: float | None = 30.0,
    allowed_hosts: Iterable[str] = (),
) -> FastAPI:
    """Build the app. `searcher` is an IndexSearcher (None: embeddings only); `bm25` enables hybrid.

    `max_batch` caps the texts encoded together from concurrent requests (1 = one request at a time;
    None = 128 on a GPU, 1 on CPU, where batching measured slower, see batcher.py); `forward_batch`
    is the texts per forward pass within that (length-sorted); `turn_size` the texts of one request
    encoded before others get a turn (0: whole requests). `max_queue` requests may wait for the
    model at once (None: no limit) and each for `request_timeout` seconds (None: no limit).
    Requests must name one of LOCAL_HOSTS or `allowed_hosts` in their Host header (`*`: any).
    """
    check_fusion(fusion)
    limits = limits or ServeLimits()
    if max_batch is None:
        on_gpu = getattr(getattr(embedder, "device_", None), "type", "cpu") == "cuda"
        max_batch = 128 if on_gpu else 1
    batcher = embedder if isinstance(embedder, EncodeBatcher) else EncodeBatcher(embedder, max_batch, forward_batch, turn_size)
    name = model_name or served_model_name(batcher.model_name_or_path)

    app = FastAPI(
        title="reasonembed",
        version=__version__,
        description="OpenAI-compatible embeddings and search over a reasonembed index.",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN; ours is local (static/docs.html)
        redoc_url=None,
    )
    app.state.serve = ServeState(
        batcher=batcher, admission=Admission(batcher, max_queue, request_timeout), searcher=searcher, bm25=bm25,
        hybrid_default=hybrid_default, fusion=fusion, api_key=api_key, limits=limits, name=name,
    )
    app.state.batcher = batcher
    app.add_middleware(BodyGuard, max_bytes=limits.max_body_bytes)
    app.add_middleware(HostGuard, allowed=[*LOCAL_HOSTS, *allowed_hosts])  # added last: runs first
    install_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            if api_key is None:  # only a keyed server declares the bearer scheme
                _drop_security(schema)
            app.openapi_schema = apply_limits(schema, limits, batcher.dim, [name], bm25 is not None)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _drop_security(schema: dict[str, Any]) -> None:
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.pop("security", None)
    schema.get("components", {}).pop("securitySchemes", None)


def _encode_vector(vector: np.ndarray, encoding_format: str) -> list[float] | str:
    if encoding_format == "base64":
        return base64.b64encode(np.ascontiguousarray(vector, dtype="<f4").tobytes()).decode("ascii")
    return vector.astype(np.float32).tolist()


def _snippet(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
