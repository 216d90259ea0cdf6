"""/v1/embeddings returns exactly what Embedder.encode_* returns, in OpenAI's wire format."""

from __future__ import annotations

import base64

import numpy as np
import pytest

API_KEY = "test-key-123"  # the keyed app's key (conftest.API_KEY)

TEXTS = ["Newton's second law relates force and acceleration.", "What is the derivative of x^3?", "ok"]


def test_float_vectors_equal_encode_documents(client, serve_embedder) -> None:
    r = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": TEXTS})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list" and body["model"] == "all-MiniLM-L6-v2"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(d["object"] == "embedding" for d in body["data"])
    got = np.array([d["embedding"] for d in body["data"]], dtype=np.float32)
    np.testing.assert_allclose(got, serve_embedder.encode_documents(TEXTS), atol=1e-5)
    lengths = [len(x) for x in serve_embedder.tokenizer(TEXTS, truncation=True, max_length=256)["input_ids"]]
    assert body["usage"] == {"prompt_tokens": sum(lengths), "total_tokens": sum(lengths)}


def test_single_string_and_base64(client, serve_embedder) -> None:
    r = client.post("/v1/embeddings", json={"model": "all-MiniLM-L6-v2", "input": TEXTS[0], "encoding_format": "base64"})
    assert r.status_code == 200, r.text
    (item,) = r.json()["data"]
    vec = np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
    np.testing.assert_allclose(vec, serve_embedder.encode_documents(TEXTS[:1])[0], atol=1e-5)


def test_query_input_type_applies_the_instruction(client, serve_embedder) -> None:
    instruction = "Given a physics question, retrieve questions that use the same law."
    r = client.post(
        "/v1/embeddings",
        json={"model": "all-MiniLM-L6-v2", "input": [TEXTS[0]], "input_type": "query", "instruction": instruction},
    )
    assert r.status_code == 200, r.text
    got = np.array(r.json()["data"][0]["embedding"], dtype=np.float32)
    np.testing.assert_allclose(got, serve_embedder.encode_queries([TEXTS[0]], instruction=instruction)[0], atol=1e-5)
    assert not np.allclose(got, serve_embedder.encode_documents([TEXTS[0]])[0], atol=1e-3)


def test_models_endpoint(client) -> None:
    r = client.get("/v1/models")
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["all-MiniLM-L6-v2"]


@pytest.mark.parametrize("encoding_format", [None, "float"])
def test_official_openai_client(live_url, serve_embedder, encoding_format) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{live_url}/v1", api_key=API_KEY, max_retries=0, timeout=60)
    kwargs = {"encoding_format": encoding_format} if encoding_format else {}  # default: client asks for base64
    result = client.embeddings.create(model="all-MiniLM-L6-v2", input=TEXTS, **kwargs)
    got = np.array([d.embedding for d in result.data], dtype=np.float32)
    np.testing.assert_allclose(got, serve_embedder.encode_documents(TEXTS), atol=1e-5)
    assert result.usage.prompt_tokens > 0 and result.model == "all-MiniLM-L6-v2"
    assert [m.id for m in client.models.list()] == ["all-MiniLM-L6-v2"]


def test_openai_client_sees_auth_and_input_errors(live_url) -> None:
    import openai

    bad_key = openai.OpenAI(base_url=f"{live_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError, match="wrong API key"):
        bad_key.embeddings.create(model="all-MiniLM-L6-v2", input="hi")
    client = openai.OpenAI(base_url=f"{live_url}/v1", api_key=API_KEY, max_retries=0)
    with pytest.raises(openai.BadRequestError, match=r"input\[1\] is empty"):
        client.embeddings.create(model="all-MiniLM-L6-v2", input=["fine", "   "])
    with pytest.raises(openai.NotFoundError, match="not served here"):
        client.embeddings.create(model="text-embedding-3-small", input="hi")
