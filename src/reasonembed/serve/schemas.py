"""Wire formats of the HTTP API, as pydantic models (they are also the OpenAPI schema).

`/v1/embeddings` follows OpenAI's embeddings API (`input` string or list of strings, `model`,
`encoding_format` float|base64, `usage`), so existing RAG stacks and the official `openai` client
work unchanged. Two optional extensions select query-side encoding: `input_type: "query"` adds the
task instruction (`Instruct: ...\\nQuery: ...`); the default `"document"` encodes the text raw, as
documents are indexed. Errors use OpenAI's envelope `{"error": {"message", "type", "param", "code"}}`.

Server-side limits (input count, characters per input, body bytes, k) are set when the app is
created (`ServeLimits`) and enforced in the handlers with 4xx errors naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# A text is "empty" when it holds only characters for which str.isspace() is true. The schema says
# the same with an explicit class (JSON Schema's `\\s` follows ECMA-262, which differs from Python's).
NON_BLANK_PATTERN = "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"


@dataclass(frozen=True)
class ServeLimits:
    """What one request may ask for; anything beyond gets a 4xx that says which limit."""

    max_inputs: int = 256  # strings per /v1/embeddings request
    max_input_chars: int = 20_000  # characters per input string (and per /search query)
    max_body_bytes: int = 4 * 1024 * 1024  # request body size; larger -> 413
    max_k: int = 100  # results per /search request
    snippet_chars: int = 320  # characters of document text returned per search result


def json_integer(value: Any) -> Any:
    """JSON Schema's integer: 3 or 3.0, not true, "3" or 3.5 (pydantic's lax mode takes the first three)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError("Input should be a valid integer")


def json_boolean(value: Any) -> Any:
    """JSON true/false only (pydantic's lax mode also takes 1, "yes", "on"...)."""
    if value is None or isinstance(value, bool):
        return value
    raise ValueError("Input should be a valid boolean")


class ErrorBody(BaseModel):
    message: str = Field(description="What was wrong, naming the field or limit.")
    type: str = Field(description="invalid_request_error, authentication_error, not_found_error, ...")
    param: str | None = Field(default=None, description="The offending field, when there is one.")
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    input: str | list[str] = Field(description="One text or a list of texts to embed.")
    model: str = Field(description="The served model id (see GET /v1/models).")
    encoding_format: Literal["float", "base64"] = Field(
        default="float", description="float: JSON numbers; base64: little-endian float32 bytes, base64-encoded."
    )
    dimensions: int | None = Field(default=None, description="If given, must equal the model's dimension.")
    user: str | None = Field(default=None, description="Accepted for compatibility; unused.")
    input_type: Literal["query", "document"] = Field(
        default="document",
        description="reasonembed extension: 'query' prepends the task instruction; 'document' encodes raw text.",
    )
    instruction: str | None = Field(
        default=None, description="reasonembed extension: task instruction for input_type='query' (default: the server's)."
    )

    _dimensions = field_validator("dimensions", mode="before")(json_integer)

    @field_validator("input", mode="before")
    @classmethod
    def _no_token_arrays(cls, value: Any) -> Any:
        if isinstance(value, list) and value and all(isinstance(v, (int, list)) for v in value):
            raise ValueError("token-id arrays are not supported; send text (a string or a list of strings)")
        return value


class EmbeddingData(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str


class Usage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingResponse(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingData]
    model: str
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = 0
    owned_by: str = "reasonembed"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(description="The question or query text.")
    k: int = Field(default=10, ge=1, description="How many results (at most the server's max_k).")
    hybrid: bool | None = Field(default=None, description="Fuse with BM25 (null = the server's default).")
    instruction: str | None = Field(default=None, description="Task instruction for the query (null = the index's).")

    _k = field_validator("k", mode="before")(json_integer)
    _hybrid = field_validator("hybrid", mode="before")(json_boolean)


class SearchResult(BaseModel):
    rank: int
    id: str
    score: float
    snippet: str


class SearchResponse(BaseModel):
    query: str
    k: int
    hybrid: bool
    model: str
    took_ms: float
    results: list[SearchResult]


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    model: str
    fingerprint: str
    dim: int
    documents: int
    index_kind: str | None
    hybrid_available: bool
    auth: bool
    encode_batches: int = Field(description="Forward passes run so far (concurrent requests share one).")
    encoded_texts: int = Field(description="Texts encoded so far.")
    queued: int = Field(default=0, description="Requests admitted now (waiting for or in the model).")
    refused: int = Field(default=0, description="Requests refused so far with 503 because the queue was full.")
    timed_out: int = Field(default=0, description="Requests that ran past the server's timeout (504).")


def apply_limits(
    schema: dict[str, Any], limits: ServeLimits, dim: int, model_names: list[str], hybrid_available: bool
) -> dict[str, Any]:
    """Write one server's limits into its OpenAPI schema, so schema-valid requests are accepted.

    The pydantic models are shared by every app; the limits are per app (`ServeLimits`), so they are
    added to the generated schema here: non-blank strings of at most `max_input_chars`, at most
    `max_inputs` inputs, `k <= max_k`, `dimensions` equal to the model's, the served model ids.
    """
    comps = schema["components"]["schemas"]
    text = {"type": "string", "minLength": 1, "maxLength": limits.max_input_chars, "pattern": NON_BLANK_PATTERN}
    emb = comps["EmbeddingRequest"]["properties"]
    emb["input"] = {
        "anyOf": [text, {"type": "array", "items": text, "minItems": 1, "maxItems": limits.max_inputs}],
        "title": "Input",
        "description": emb["input"].get("description", ""),
    }
    emb["model"]["enum"] = sorted(model_names)
    emb["dimensions"]["anyOf"] = [{"type": "integer", "enum": [dim]}, {"type": "null"}]
    emb["instruction"]["anyOf"] = [{"type": "string", "maxLength": limits.max_input_chars}, {"type": "null"}]
    search = comps["SearchRequest"]["properties"]
    search["query"].update(text)
    search["k"]["maximum"] = limits.max_k
    search["instruction"]["anyOf"] = [{"type": "string", "maxLength": limits.max_input_chars}, {"type": "null"}]
    if not hybrid_available:
        search["hybrid"]["anyOf"] = [{"type": "boolean", "enum": [False]}, {"type": "null"}]
    return schema


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad input: the message names the field or limit."},
    401: {"model": ErrorResponse, "description": "Missing or wrong API key (when the server requires one)."},
    404: {"model": ErrorResponse, "description": "Unknown model, or no index loaded."},
    413: {"model": ErrorResponse, "description": "Request body larger than the server's limit."},
    503: {"model": ErrorResponse, "description": "Server busy: its request queue is full; retry after `Retry-After` seconds."},
    504: {"model": ErrorResponse, "description": "The request ran past the server's timeout."},
}
