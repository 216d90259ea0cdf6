"""Turn every kind of bad request into a clear 4xx, before and after FastAPI sees it.

`BodyGuard` is a small ASGI middleware that reads a POST body once, up to the server's byte limit,
and answers itself when the body is too large (413), empty, not UTF-8, not JSON, or holds a lone
UTF-16 surrogate (`"\\ud800"` is legal JSON but no text: the tokenizer would fail with a 500) (400)
— each with a message saying which, and where. It then replays the body to the app. Without it
FastAPI answers a non-UTF-8 body with a vague "error parsing the body" and reads bodies of any size.

`HostGuard` refuses requests whose `Host` header is not on the server's list (400). A keyless
server on localhost is otherwise open to DNS rebinding: a web page on evil.example re-points its
name at 127.0.0.1 and its scripts then read the API as "same origin"; their requests still say
`Host: evil.example`, which is what this check catches.

`install_error_handlers` makes FastAPI's own errors (validation, 404/405, anything unexpected)
speak OpenAI's error envelope `{"error": {"message", "type", "param", "code"}}`, with validation
messages naming the field (`input[3]: String should have at least 1 character`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from reasonembed.errors import RecordError
from reasonembed.io import _check_surrogates

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "request_too_large",
    422: "invalid_request_error",
    499: "client_closed_request",
    503: "server_busy",
    504: "timeout",
}
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


class ApiError(Exception):
    """Raised by handlers for a 4xx with a message (and the offending field)."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.headers = headers


def error_payload(status: int, message: str, param: str | None = None, code: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": ERROR_TYPES.get(status, "server_error"), "param": param, "code": code}}


def check_json_body(body: bytes) -> str | None:
    """Why a request body is not a JSON document, or None when it is."""
    if not body.strip():
        return "request body is empty; send a JSON object"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"request body is not valid UTF-8 (byte 0x{body[exc.start]:02x} at offset {exc.start})"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"request body is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    except RecursionError:
        return "request body is not valid JSON: nested too deeply"
    if "\\u" in text:  # only an escape can spell a lone surrogate
        try:
            _check_surrogates("request body", None, document)  # names the field
            json.dumps(document, ensure_ascii=False).encode("utf-8")  # ... or one in a key
        except RecordError as exc:
            return str(exc)
        except UnicodeEncodeError:
            return "request body: a field name contains a lone UTF-16 surrogate (not valid Unicode text)"
        except RecursionError:
            return "request body is not valid JSON: nested too deeply"
    return None


def host_name(header: str) -> str:
    """'Example.com:8000' -> 'example.com', '[::1]:8000' -> '::1'."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class HostGuard:
    """ASGI middleware: answer 400 unless the Host header names an allowed host (`*`: any)."""

    def __init__(self, app: Any, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = {host_name(h) for h in allowed}
        self.any = "*" in self.allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.any:
            header = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if host_name(header) not in self.allowed:
                await _reply(send, 400, f"Host header {header.strip().lower()!r} is not allowed; this server answers "
                             f"{', '.join(sorted(self.allowed))} (start it with --allowed-hosts to add names)")
                return
        await self.app(scope, receive, send)


class BodyGuard:
    """ASGI middleware: size, UTF-8 and JSON checks on POST bodies, then replay."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _reply(send, 400, "Content-Length header is not an integer")
                return
            if size > self.max_bytes:
                await _reply(send, 413, f"request body is {size} bytes; this server accepts at most {self.max_bytes}")
                return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _reply(send, 413, f"request body exceeds {self.max_bytes} bytes, this server's limit")
                return
            if not message.get("more_body", False):
                break
        problem = check_json_body(bytes(body))
        if problem:
            await _reply(send, 400, problem)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


async def _reply(send: Send, status: int, message: str) -> None:
    payload = json.dumps(error_payload(status, message)).encode()  # ASCII: any text survives
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": payload})


def field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'input', 'list[str]', 3) -> 'input[3]': drop the 'body' root and pydantic's union tags."""
    name = ""
    for part in loc:
        if part == "body" and not name:
            continue
        if isinstance(part, int):
            name += f"[{part}]"
        elif "[" in str(part) or str(part) in {"str", "int", "float", "bool"} or "function-" in str(part):
            continue
        else:
            name += ("." if name else "") + str(part)
    return name or "body"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_payload(exc.status, exc.message, exc.param, exc.code), status_code=exc.status,
                            headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        parts = []
        for err in errors[:5]:
            msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
            parts.append(f"{field_name(err.get('loc', ()))}: {msg}")
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        param = field_name(errors[0].get("loc", ())) if errors else None
        return JSONResponse(error_payload(400, "; ".join(parts) + more, param), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        return JSONResponse(error_payload(status, str(exc.detail)), status_code=status, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_payload(500, f"internal error: {type(exc).__name__}"), status_code=500)
