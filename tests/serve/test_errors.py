"""Bad requests get a 4xx whose message says what was wrong; never a 500. Auth rejects bad keys."""

from __future__ import annotations

import json

import pytest

M = "all-MiniLM-L6-v2"
EMB = "/v1/embeddings"

# (path, raw body or JSON object, expected status, expected message fragment); limits of the `app` fixture:
# 4 inputs, 2,000 characters per input, 64 KiB body, k <= 20.
CASES = [
    (EMB, b"", 400, "request body is empty"),
    (EMB, b"   \n", 400, "request body is empty"),
    (EMB, b'{"model": "x", "input": "caf\xe9"}', 400, "not valid UTF-8 (byte 0xe9 at offset 28)"),
    (EMB, b"\xff\xfe\x00", 400, "not valid UTF-8"),
    (EMB, b'{"model": "all-MiniLM-L6-v2", "input": ["a",}', 400, "not valid JSON: Expecting value at line 1, column 45"),
    (EMB, b"[1, 2", 400, "not valid JSON"),
    (EMB, b"[" * 60_000, 400, "not valid JSON"),  # deep nesting: RecursionError in json, still a 400
    (EMB, b"[" * 100_000, 413, "request body is 100000 bytes; this server accepts at most 65536"),
    (EMB, {"model": M, "input": "x" * 70_000}, 413, "this server accepts at most 65536"),
    (EMB, {"model": M, "input": ["a", "b", "c", "d", "e"]}, 400, "input has 5 items; this server accepts at most 4"),
    (EMB, {"model": M, "input": "y" * 2001}, 400, "input has 2001 characters; this server accepts at most 2000"),
    (EMB, {"model": M, "input": ["ok", "z" * 2001]}, 400, "input[1] has 2001 characters"),
    (EMB, {"model": M, "input": ""}, 400, "input is empty"),
    (EMB, {"model": M, "input": []}, 400, "input is an empty list"),
    (EMB, {"model": M, "input": ["a", ""]}, 400, "input[1] is empty"),
    (EMB, {"model": M}, 400, "input: Field required"),
    (EMB, {"input": "hi"}, 400, "model: Field required"),
    (EMB, {"model": M, "input": [1, 2, 3]}, 400, "token-id arrays are not supported"),
    (EMB, {"model": M, "input": [["a"]]}, 400, "input"),
    (EMB, {"model": M, "input": "hi", "encoding_format": "int8"}, 400, "encoding_format: Input should be 'float' or 'base64'"),
    (EMB, {"model": M, "input": "hi", "dimensions": 12}, 400, "384-dimensional"),
    (EMB, {"model": M, "input": "hi", "instruction": "i" * 2001}, 400, "instruction is longer than 2000 characters"),
    (EMB, {"model": "gpt-4", "input": "hi"}, 404, "model 'gpt-4' is not served here; this server serves 'all-MiniLM-L6-v2'"),
    (EMB, [1, 2], 400, "Input should be a valid dictionary"),
    (EMB, "just a string", 400, "Input should be a valid dictionary"),
    ("/search", {"query": ""}, 400, "query is empty"),
    ("/search", {"query": "q", "k": 21}, 400, "k is 21; this server returns at most 20 results"),
    ("/search", {"query": "q", "k": 0}, 400, "k: Input should be greater than or equal to 1"),
    ("/search", {"query": "q", "k": "ten"}, 400, "k: Input should be a valid integer"),
    ("/search", {"query": "q", "k": True}, 400, "k: Input should be a valid integer"),
    ("/search", {"query": "q", "k": "3"}, 400, "k: Input should be a valid integer"),
    ("/search", {"query": "q", "k": 2.5}, 400, "k: Input should be a valid integer"),
    ("/search", {"query": "q", "hybrid": "yes"}, 400, "hybrid: Input should be a valid boolean"),
    ("/search", {"query": "q" * 2001}, 400, "query has 2001 characters"),
    ("/search", {"q": "typo"}, 400, "query: Field required"),
    ("/search", {"query": "q", "extra": 1}, 400, "extra: Extra inputs are not permitted"),
    # lone UTF-16 surrogates (legal JSON escapes, not Unicode text): 400 naming the field, never a 500
    (EMB, b'{"model": "all-MiniLM-L6-v2", "input": "x \\ud800"}', 400, "field 'input': contains a lone UTF-16 surrogate"),
    (EMB, b'{"model": "all-MiniLM-L6-v2", "input": ["ok", "\\udfff y"]}', 400, "field 'input[1]': contains a lone"),
    (EMB, b'{"model": "x \\ud800", "input": "hi"}', 400, "field 'model': contains a lone"),
    ("/search", b'{"query": "x \\ud800"}', 400, "field 'query': contains a lone UTF-16 surrogate"),
    ("/search", b'{"query": "q", "instruction": "\\ud83d"}', 400, "field 'instruction': contains a lone"),
    ("/search", b'{"query": "q", "\\ud800": 1}', 400, "lone UTF-16 surrogate"),
]


@pytest.mark.parametrize(("path", "body", "status", "fragment"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_gets_a_clear_4xx(client, path, body, status, fragment) -> None:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    r = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert fragment in error["message"], error
    assert error["type"] in {"invalid_request_error", "request_too_large", "not_found_error"}


def test_declared_oversized_body_is_refused_before_reading(client) -> None:
    r = client.post(EMB, content=b"{}", headers={"content-type": "application/json", "content-length": "10000000"})
    assert r.status_code == 413
    assert "request body is 10000000 bytes; this server accepts at most 65536" in r.json()["error"]["message"]


def test_streamed_oversized_body_without_length_is_cut_off(client) -> None:
    def chunks():
        for _ in range(100):
            yield b"x" * 1024

    r = client.post(EMB, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "request body exceeds 65536 bytes" in r.json()["error"]["message"]


def test_unknown_route_and_method_use_the_error_envelope(client) -> None:
    assert client.get("/nope").json()["error"]["type"] == "not_found_error"
    r = client.get(EMB)
    assert r.status_code == 405 and "error" in r.json()


@pytest.mark.parametrize("path", [EMB, "/search"])
def test_auth_rejects_missing_and_wrong_key(keyed_client, path) -> None:
    body = {"model": M, "input": "hello"} if path == EMB else {"query": "hello"}
    missing = keyed_client.post(path, json=body)
    assert missing.status_code == 401
    assert missing.json()["error"]["message"].startswith("missing API key")
    wrong = keyed_client.post(path, json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "wrong API key"
    basic = keyed_client.post(path, json=body, headers={"Authorization": "Basic dGVzdA=="})
    assert basic.status_code == 401
    ok = keyed_client.post(path, json=body, headers={"Authorization": "Bearer test-key-123"})
    assert ok.status_code == 200, ok.text


def test_open_endpoints_need_no_key(keyed_client) -> None:
    assert keyed_client.get("/healthz").json()["auth"] is True
    assert keyed_client.get("/").status_code == 200
    assert keyed_client.get("/v1/models").status_code == 401
