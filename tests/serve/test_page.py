"""The search page, driven in headless Chromium: type a query, get the expected top document.

Needs the Debian `chromium` package and the `playwright` Python package (its bundled driver only;
never `playwright install`). The screenshot is kept under test-artifacts/ at the repository root.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("REASONEMBED_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def test_search_page_returns_the_expected_top_document(live_url, serve_docs, tmp_path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    doc = serve_docs[12]  # dev-0012: "the monotone function f on [0,1] is differentiable almost everywhere..."
    assert doc["id"] == "dev-0012"
    query = "Which theorem proves that a monotone function is differentiable almost everywhere?"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1000, "height": 900},
        )
        try:
            page = context.new_page()
            page.goto(live_url + "/")
            page.wait_for_function("document.getElementById('status').textContent.includes('documents')")
            assert "40 documents" in page.text_content("#status")
            assert "API key required" in page.text_content("#status")

            # without the key the page shows the server's message, not a crash
            page.fill("#query", query)
            page.press("#query", "Enter")
            page.wait_for_selector("body[data-state=error]")
            assert "missing API key" in page.text_content("#message")

            page.fill("#api-key", "test-key-123")
            page.dispatch_event("#api-key", "change")
            page.click("#go")
            page.wait_for_selector("body[data-state=done]")
            hits = page.locator("#results li.hit")
            assert hits.count() == 10
            assert hits.first.get_attribute("data-docid") == doc["id"]
            assert hits.first.locator(".doc-id").text_content() == doc["id"]
            scores = [float(t) for t in hits.locator(".score").all_text_contents()]
            assert scores == sorted(scores, reverse=True) and 0.5 < scores[0] <= 1.0
            assert doc["content"].split()[0] in hits.first.locator(".snippet").text_content()
            page.screenshot(path=str(ARTIFACTS / "search_page.png"), full_page=True)
        finally:
            context.close()
    assert (ARTIFACTS / "search_page.png").stat().st_size > 10_000


def test_docs_page_renders_the_api_without_a_network(live_url, tmp_path) -> None:
    """/docs in headless Chromium with every request off the server blocked: the operations render."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    outside: list[str] = []
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=FLAGS,
        )
        try:
            def route(request_route) -> None:
                url = request_route.request.url
                if url.startswith(live_url):
                    request_route.continue_()
                else:
                    outside.append(url)
                    request_route.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.goto(live_url + "/docs")
            page.wait_for_selector("#operations h2")
            headings = page.locator("#operations h2").all_text_contents()
            assert {"POST /v1/embeddings", "POST /search", "GET /healthz"} <= set(headings)
            assert "Needs Authorization" in page.text_content("#operations")  # the keyed app declares auth
        finally:
            context.close()
    assert outside == []
