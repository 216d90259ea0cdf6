"""Bounded load: a full queue answers 503 + Retry-After, a request past its timeout 504, a request
whose client went away is never encoded, and a huge request does not hold small ones behind it."""

from __future__ import annotations

import socket
import threading
import time

# ~256 tokens each (MiniLM's document limit): a job that keeps the one model thread busy for seconds
LONG = ["the integral of a continuous function over a closed interval is finite " * 30 + f"({i})" for i in range(32)]


def _wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_small_request_is_not_stuck_behind_a_huge_one(serve_embedder) -> None:
    from reasonembed.serve.batcher import EncodeBatcher

    batcher = EncodeBatcher(serve_embedder, max_batch=1, forward_batch=8)
    try:
        big = batcher.submit(LONG, "document")
        _wait_for(lambda: batcher.texts > 0)  # the big job has started
        small = batcher.submit(["what is an integral?"], "query")
        small.result(timeout=120)
        assert not big.done(), "the small request waited for the whole big one"
        vectors, _ = big.result(timeout=300)
        assert vectors.shape == (32, 384)
        import numpy as np

        np.testing.assert_allclose(vectors[:3], serve_embedder.encode_documents(LONG[:3]), atol=1e-5)
    finally:
        batcher.close()


def test_full_queue_gets_503_with_retry_after(new_app) -> None:
    from fastapi.testclient import TestClient

    app = new_app(max_queue=1, turn_size=0)  # whole requests: the first one surely waits
    with TestClient(app, base_url="http://localhost") as client:
        busy = app.state.batcher.submit(LONG, "document")  # the model thread is busy for a while
        first: dict = {}
        waiter = threading.Thread(target=lambda: first.update(r=client.post("/search", json={"query": "a"})))
        waiter.start()
        _wait_for(lambda: app.state.serve.admission.active == 1)
        r = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": "b"})
        assert r.status_code == 503, r.text
        assert int(r.headers["retry-after"]) >= 1
        error = r.json()["error"]
        assert error["code"] == "server_busy" and "at most 1 request" in error["message"]
        waiter.join(timeout=300)
        busy.result(timeout=300)
        assert first["r"].status_code == 200
        assert client.post("/search", json={"query": "c"}).status_code == 200  # the slot was freed


def test_request_past_its_timeout_gets_504_and_is_not_encoded(new_app) -> None:
    from fastapi.testclient import TestClient

    app = new_app(request_timeout=0.5, turn_size=0)
    batcher = app.state.batcher
    with TestClient(app, base_url="http://localhost") as client:
        busy = batcher.submit(LONG, "document")
        r = client.post("/search", json={"query": "what is an integral?"})
        assert r.status_code == 504, r.text
        assert "0.5 s" in r.json()["error"]["message"]
        busy.result(timeout=300)
        time.sleep(0.5)
        assert batcher.texts == len(LONG)  # the timed-out query was dropped, not encoded
        assert client.app.state.serve.admission.active == 0


def test_request_whose_client_went_away_is_not_encoded(new_app, live_server) -> None:
    app = new_app(turn_size=0)
    batcher = app.state.batcher
    url = live_server(app)
    busy = batcher.submit(LONG, "document")
    host, port = url.removeprefix("http://").split(":")
    body = b'{"query": "what is an integral?", "k": 3}'
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        _wait_for(lambda: app.state.serve.admission.active == 1)
    # the client hung up while its request waited behind `busy`
    busy.result(timeout=300)
    _wait_for(lambda: app.state.serve.admission.active == 0)
    time.sleep(0.3)
    assert batcher.texts == len(LONG)
