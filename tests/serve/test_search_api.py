"""/search, /healthz, the page and the OpenAPI schema."""

from __future__ import annotations

import pytest


def test_search_returns_the_expected_document(client, serve_docs) -> None:
    doc = serve_docs[5]
    r = client.post("/search", json={"query": doc["content"], "k": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["hybrid"] is False and body["k"] == 3 and len(body["results"]) == 3
    top = body["results"][0]
    assert top["rank"] == 1 and top["id"] == doc["id"] and top["score"] == pytest.approx(1.0, abs=1e-3)
    assert top["snippet"] == " ".join(doc["content"].split())[:320] or top["snippet"].endswith("…")
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_search_matches_the_python_searcher(client, serve_index, serve_embedder) -> None:
    from reasonembed.index import open_searcher

    query = "probability that a normally distributed variable is below a value"
    expected = open_searcher(serve_index, serve_embedder).search(query, k=5)
    got = client.post("/search", json={"query": query, "k": 5}).json()["results"]
    assert [h["id"] for h in got] == [h.docid for h in expected]
    assert [h["score"] for h in got] == pytest.approx([h.score for h in expected], abs=1e-5)


def test_hybrid_and_instruction(client, serve_docs) -> None:
    doc = serve_docs[9]
    hybrid = client.post("/search", json={"query": doc["content"], "k": 5, "hybrid": True}).json()
    assert hybrid["hybrid"] is True and hybrid["results"][0]["id"] == doc["id"]
    assert hybrid["results"][0]["score"] == pytest.approx(2 / 61)
    plain = client.post("/search", json={"query": "series sum", "k": 5}).json()["results"]
    instructed = client.post(
        "/search", json={"query": "series sum", "k": 5, "instruction": "Retrieve math problems on the same theorem."}
    ).json()["results"]
    assert [h["score"] for h in plain] != [h["score"] for h in instructed]


def test_healthz_page_and_openapi(client) -> None:
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["documents"] == 40 and health["dim"] == 384
    assert health["index_kind"] == "flat" and health["hybrid_available"] is True and health["auth"] is False
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'id="search-form"' in page.text
    assert client.get("/static/app.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert {"/v1/embeddings", "/search", "/healthz", "/v1/models"} <= set(schema["paths"])
    assert "400" in schema["paths"]["/v1/embeddings"]["post"]["responses"]
