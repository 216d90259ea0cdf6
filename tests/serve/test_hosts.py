"""DNS-rebinding protection (Host allow-list), start-up checks of `reasonembed serve`, offline /docs."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest


@pytest.mark.parametrize("host", ["localhost", "localhost:8000", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_local_host_names_are_accepted(client, host) -> None:
    r = client.get("/healthz", headers={"host": host})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example", "10.0.0.5:8000"])
def test_unknown_host_is_refused(client, host) -> None:
    for method, path in (("get", "/healthz"), ("post", "/search"), ("get", "/")):
        r = getattr(client, method)(path, headers={"host": host}, **({"json": {"query": "q"}} if method == "post" else {}))
        assert r.status_code == 400, (path, r.text)
        error = r.json()["error"]
        assert f"Host header {host.lower()!r} is not allowed" in error["message"] and "--allowed-hosts" in error["message"]


def test_allowed_hosts_extends_the_list_and_star_allows_any(new_app) -> None:
    from fastapi.testclient import TestClient

    with TestClient(new_app(allowed_hosts=["search.example"]), base_url="http://search.example") as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/healthz", headers={"host": "localhost"}).status_code == 200
        assert c.get("/healthz", headers={"host": "other.example"}).status_code == 400
    with TestClient(new_app(allowed_hosts=["*"]), base_url="http://whatever.example") as c:
        assert c.get("/healthz").status_code == 200


def _serve(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "reasonembed.cli", "serve", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env())


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("REASONEMBED_API_KEY", None)
    return env


def test_bad_fusion_is_an_error_before_the_server_starts(tmp_path) -> None:
    result = _serve("--index", str(tmp_path / "nowhere"), "--fusion", "bogus", "--port", "1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: ") and "fusion 'bogus' is not one of rrf, score" in result.stderr
    assert "Traceback" not in result.stderr


def test_public_bind_without_key_warns(tmp_path) -> None:
    result = _serve("--index", str(tmp_path / "nowhere"), "--host", "0.0.0.0", "--port", "1")
    assert "warning: --host 0.0.0.0 without an API key" in result.stderr
    assert result.returncode == 2 and "error: " in result.stderr  # then the missing index stops it


def test_docs_page_works_offline(client) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    refs = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert refs and all(ref.startswith("/") and not ref.startswith("//") for ref in refs), refs
    for ref in refs:
        assert client.get(ref).status_code == 200, ref
    assert "openapi.json" in client.get("/static/docs.js").text
