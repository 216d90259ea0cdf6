"""Fixtures for serve tests: a small real index, apps with and without an API key, a live uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

API_KEY = "test-key-123"
SCHEMATHESIS_HOST = ["testserver"]  # its ASGI transport always sends `Host: testserver`


@pytest.fixture(scope="session")
def serve_docs(theoremqa_docs) -> list[dict]:
    """The first 40 TheoremQA dev documents ({id, content})."""
    return theoremqa_docs[:40]


@pytest.fixture(scope="session")
def serve_embedder(minilm_embedder):
    return minilm_embedder


@pytest.fixture(scope="session")
def serve_index(make_index, serve_docs) -> Path:
    return make_index("serve", serve_docs, bm25=True)


APP_OPTIONS = ("max_queue", "request_timeout", "allowed_hosts", "turn_size")


def make_app(index: Path, embedder, api_key: str | None = None, **settings):
    """An app over `index`; `settings` are ServeLimits fields or create_app's APP_OPTIONS."""
    from reasonembed.index.searcher import IndexSearcher, bm25_searcher, load_index
    from reasonembed.serve import ServeLimits, create_app

    loaded = load_index(index)
    searcher = IndexSearcher(loaded, embedder)
    bm25 = bm25_searcher(loaded.ids, loaded.texts)
    options = {key: settings.pop(key) for key in APP_OPTIONS if key in settings}
    return create_app(embedder, searcher, bm25=bm25, api_key=api_key, limits=ServeLimits(**settings), **options)


@pytest.fixture(scope="session")
def app(serve_index, serve_embedder):
    """Open app with small limits (4 inputs, 2,000 chars, 64 KiB bodies, k <= 20)."""
    app = make_app(serve_index, serve_embedder, max_inputs=4, max_input_chars=2000, max_body_bytes=65536, max_k=20,
                   allowed_hosts=SCHEMATHESIS_HOST)
    yield app
    app.state.batcher.close()


@pytest.fixture(scope="session")
def keyed_app(serve_index, serve_embedder):
    app = make_app(serve_index, serve_embedder, api_key=API_KEY, allowed_hosts=SCHEMATHESIS_HOST)
    yield app
    app.state.batcher.close()


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, base_url="http://localhost") as c:  # a Host the server accepts by default
        yield c


@pytest.fixture(scope="session")
def keyed_client(keyed_app):
    from fastapi.testclient import TestClient

    with TestClient(keyed_app, base_url="http://localhost") as c:
        yield c


def run_server(app) -> Iterator[str]:
    """uvicorn on 127.0.0.1 with an OS-chosen free port, in a thread; yields the base URL."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def new_app(serve_index, serve_embedder):
    """new_app(api_key=None, **settings) -> a fresh app over the serve index, closed after the test."""
    apps = []

    def build(api_key: str | None = None, **settings):
        apps.append(make_app(serve_index, serve_embedder, api_key, **settings))
        return apps[-1]

    yield build
    for app in apps:
        app.state.batcher.close()


@pytest.fixture
def live_server():
    """live_server(app) -> base URL of `app` under uvicorn on loopback, stopped after the test."""
    running = []

    def start(app) -> str:
        running.append(run_server(app))
        return next(running[-1])

    yield start
    for gen in running:
        gen.close()


@pytest.fixture(scope="session")
def live_url(keyed_app) -> Iterator[str]:
    """The keyed app served over real HTTP on loopback."""
    yield from run_server(keyed_app)
