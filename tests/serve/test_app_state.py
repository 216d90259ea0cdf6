"""The app's routes are declared once at module level and read per-app state from `app.state`;
creating an app never changes the objects it is given."""

from __future__ import annotations


def test_create_app_leaves_the_callers_searcher_alone(serve_index, serve_embedder) -> None:
    from reasonembed.index.searcher import IndexSearcher, load_index
    from reasonembed.serve import create_app

    searcher = IndexSearcher(load_index(serve_index), serve_embedder)
    app = create_app(serve_embedder, searcher)
    try:
        assert searcher.embedder is serve_embedder  # not swapped for the app's batcher
        assert app.state.serve.searcher is not None
    finally:
        app.state.batcher.close()


def test_routes_are_module_level_and_apps_do_not_share_state(new_app) -> None:
    from fastapi.testclient import TestClient

    from reasonembed.serve.app import router

    assert {"/v1/embeddings", "/v1/models", "/search", "/healthz"} <= {route.path for route in router.routes}
    wide = new_app(max_k=20)
    narrow = new_app(api_key="k2", max_k=5)
    with TestClient(wide, base_url="http://localhost") as a, TestClient(narrow, base_url="http://localhost") as b:
        assert a.post("/search", json={"query": "series", "k": 10}).status_code == 200
        r = b.post("/search", json={"query": "series", "k": 10}, headers={"Authorization": "Bearer k2"})
        assert r.status_code == 400 and "at most 5 results" in r.json()["error"]["message"]
        assert b.post("/search", json={"query": "series", "k": 2}).status_code == 401
        assert a.get("/healthz").json()["auth"] is False and b.get("/healthz").json()["auth"] is True
