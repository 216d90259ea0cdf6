"""A real HTTP server on 127.0.0.1 that speaks the OpenAI chat-completions API with scripted replies.

The one scripted LLM endpoint of the test suite (tests/llm, tests/remixer, tests/quickstart and the
LLM searchers' tests use it). The test double sits at the external boundary (the LLM endpoint): the
client under test does real HTTP. `script(body, call_number)` returns a `Reply` (status, body, delay,
headers); `completion(...)` builds a well-formed chat.completion body. Use it as a context manager,
`with ScriptedOpenAIServer(script) as server: ... server.base_url`, or through the
`scripted_openai_server` fixture (import it into a conftest), which starts servers on demand and
stops them after the test: `server = scripted_openai_server(script)`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict -> JSON; str -> sent as is
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def completion(content: str, prompt_tokens: int = 10, completion_tokens: int = 5) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "model": "scripted",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                  "total_tokens": prompt_tokens + completion_tokens},
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # listen backlog; the default 5 drops SYNs when dozens of clients connect at once


class ScriptedOpenAIServer:
    def __init__(self, script: Callable[[dict[str, Any], int], Reply], port: int = 0):
        self.script = script
        self.calls = 0
        self.bodies: list[dict[str, Any]] = []
        self.inflight = 0
        self.max_inflight = 0
        self.connections: set[tuple[str, int]] = set()  # client (host, port) pairs seen: keep-alive reuse
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.calls += 1
                    n = server.calls
                    server.bodies.append(body)
                    server.connections.add(self.client_address[:2])
                    server.inflight += 1
                    server.max_inflight = max(server.max_inflight, server.inflight)
                try:
                    reply = server.script(body, n)
                    if reply.delay_s:
                        time.sleep(reply.delay_s)
                    payload = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
                    data = payload.encode("utf-8")
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    try:
                        self.wfile.write(data)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                finally:
                    with server._lock:
                        server.inflight -= 1

        self.httpd = _Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> ScriptedOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def scripted_openai_server():
    """`start(script, port=0) -> ScriptedOpenAIServer`, running until the test ends."""
    started: list[ScriptedOpenAIServer] = []

    def start(script: Callable[[dict[str, Any], int], Reply], port: int = 0) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(script, port).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__()
