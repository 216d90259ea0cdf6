"""OpenAIChatClient against a real local HTTP server with scripted replies."""

from __future__ import annotations

import socket
import time

import pytest
from openai_server import Reply, ScriptedOpenAIServer, completion

from reasonembed.errors import ConfigError
from reasonembed.llm import ChatRequest, LLMConfig, SamplingParams, build_llm


def _client(*urls: str, **kw):
    cfg = LLMConfig(backend="openai", model="m", base_urls=list(urls), backoff_base_s=0.01, backoff_max_s=0.05,
                    timeout_s=kw.pop("timeout_s", 5.0), **kw)
    return build_llm(cfg)


def _requests(n: int) -> list[ChatRequest]:
    return [ChatRequest(i, [{"role": "user", "content": f"q{i}"}], SamplingParams(0.7, 0.9, 40, 16), seed=i) for i in range(n)]


def test_429_burst_is_retried_and_counted():
    def script(body, n):
        return Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"}) if n <= 3 else Reply(body=completion("ok", 7, 2))
    with ScriptedOpenAIServer(script) as server:
        llm = _client(server.base_url, max_retries=5)
        result = llm.chat([{"role": "user", "content": "hi"}])
    assert result.ok and result.text == "ok" and result.retries == 3
    snap = llm.accounting.snapshot()
    assert snap["retries"] == 3 and snap["calls"] == 1 and snap["prompt_tokens"] == 7 and snap["completion_tokens"] == 2


def test_500_burst_under_concurrency_every_request_succeeds():
    def script(body, n):
        return Reply(500, "internal error") if n <= 20 else Reply(body=completion(body["messages"][0]["content"].upper()))
    with ScriptedOpenAIServer(script) as server:
        llm = _client(server.base_url, max_concurrency=8, max_retries=8)
        results = {req.key: res for req, res in llm.map(_requests(30))}
    assert sorted(results) == list(range(30))
    assert all(r.ok for r in results.values())
    assert all(results[i].text == f"Q{i}" for i in range(30))  # each answer belongs to its request
    snap = llm.accounting.snapshot()
    assert snap["retries"] == 20 and snap["failed"] == 0 and snap["ok"] == 30


def test_timeout_is_retried():
    def script(body, n):
        return Reply(body=completion("late"), delay_s=1.5) if n == 1 else Reply(body=completion("fast"))
    with ScriptedOpenAIServer(script) as server:
        llm = _client(server.base_url, timeout_s=0.3, max_retries=2)
        result = llm.chat([{"role": "user", "content": "hi"}])
    assert result.ok and result.text == "fast" and result.retries == 1


def test_malformed_replies_fail_after_retries_without_raising():
    with ScriptedOpenAIServer(lambda body, n: Reply(200, "<html>not json")) as server:
        llm = _client(server.base_url, max_retries=2)
        result = llm.chat([{"role": "user", "content": "hi"}])
        assert server.calls == 3
    assert not result.ok and result.text == "" and result.error.startswith("malformed")
    snap = llm.accounting.snapshot()
    assert snap["failed"] == 1 and snap["retries"] == 2 and snap["errors"] == {"malformed": 1}


def test_reply_without_choices_is_malformed_then_recovers():
    def script(body, n):
        return Reply(body={"object": "chat.completion"}) if n == 1 else Reply(body=completion("fine"))
    with ScriptedOpenAIServer(script) as server:
        result = _client(server.base_url).chat([{"role": "user", "content": "x"}])
    assert result.ok and result.text == "fine" and result.retries == 1


def test_client_error_is_not_retried():
    with ScriptedOpenAIServer(lambda body, n: Reply(400, {"error": "bad request"})) as server:
        result = _client(server.base_url, max_retries=5).chat([{"role": "user", "content": "x"}])
        assert server.calls == 1
    assert not result.ok and result.error.startswith("http 400")


def test_think_blocks_are_stripped_and_sampling_is_sent():
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("<think>hmm, let me see</think>\nanswer"))) as server:
        llm = _client(server.base_url)
        result = llm.chat([{"role": "user", "content": "x"}], SamplingParams(0.7, 0.95, 40, 99), seed=5)
        body = server.bodies[0]
    assert result.text == "answer" and "<think>" in result.raw_text
    assert body["model"] == "m" and body["temperature"] == 0.7 and body["top_p"] == 0.95
    assert body["top_k"] == 40 and body["max_tokens"] == 99 and body["seed"] == 5


def test_concurrency_is_bounded_and_endpoints_share_the_load():
    def script(body, n):
        return Reply(body=completion("ok"), delay_s=0.05)
    with ScriptedOpenAIServer(script) as a, ScriptedOpenAIServer(script) as b:
        llm = _client(a.base_url, b.base_url, max_concurrency=6)
        results = list(llm.map(_requests(60)))
        assert len(results) == 60
        assert a.max_inflight + b.max_inflight <= 6 + 1  # per-server peaks may not coincide
        assert max(a.max_inflight, b.max_inflight) <= 6
        assert a.calls >= 15 and b.calls >= 15 and a.calls + b.calls == 60


def test_api_key_comes_from_the_named_env_var(monkeypatch):
    seen = {}
    monkeypatch.setenv("MY_LLM_KEY", "sekrit")
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("ok"))) as server:
        llm = _client(server.base_url, api_key_env="MY_LLM_KEY")
        assert llm._headers["Authorization"] == "Bearer sekrit"
        seen["ok"] = llm.chat([{"role": "user", "content": "x"}]).ok
    assert seen["ok"]


def test_config_errors():
    with pytest.raises(ConfigError):
        build_llm(LLMConfig(backend="openai", model="", base_urls=["http://x/v1"]))
    with pytest.raises(ConfigError):
        build_llm(LLMConfig(backend="openai", model="m", base_urls=[]))


def test_retry_after_accepts_seconds_and_http_dates():
    from email.utils import formatdate

    from reasonembed.llm.client import _retry_after

    assert _retry_after({"Retry-After": "2.5"}) == 2.5
    assert _retry_after({"Retry-After": "-3"}) == 0.0
    assert _retry_after({}) is None and _retry_after({"Retry-After": "soon"}) is None
    later = _retry_after({"Retry-After": formatdate(time.time() + 30, usegmt=True)})
    assert later is not None and 25 < later <= 30
    assert _retry_after({"Retry-After": formatdate(time.time() - 30, usegmt=True)}) == 0.0
    llm = _client("http://127.0.0.1:9/v1")
    assert all(llm._backoff(0, 0.04) >= 0.04 for _ in range(20))  # the server's wait wins over a shorter backoff
    assert all(0.005 <= llm._backoff(0, None) <= 0.01 for _ in range(20))  # d/2 + U(0, d/2) with d = 0.01


def test_connection_errors_move_to_a_live_endpoint():
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/v1"
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("ok"))) as live:
        llm = _client(dead, live.base_url, max_concurrency=4, max_retries=3)
        results = [res for _, res in llm.map(_requests(20))]
        assert live.calls == 20
    assert all(r.ok and r.endpoint == live.base_url for r in results)
    assert llm.accounting.snapshot()["retries"] >= 1  # the dead endpoint was tried and left


def test_least_busy_routing_favours_the_faster_endpoint():
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("slow"), delay_s=0.2)) as slow, \
            ScriptedOpenAIServer(lambda body, n: Reply(body=completion("fast"), delay_s=0.01)) as fast:
        llm = _client(slow.base_url, fast.base_url, max_concurrency=4)
        assert len(list(llm.map(_requests(80)))) == 80
        assert fast.calls > 3 * slow.calls and slow.calls >= 2


def test_high_concurrency_keeps_every_slot_busy():
    # one kept-alive connection per worker, none queued behind a pool: 48 connections carry 144 requests
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("ok"), delay_s=0.3)) as server:
        llm = _client(server.base_url, max_concurrency=48)
        start = time.perf_counter()
        assert sum(res.ok for _, res in llm.map(_requests(144))) == 144
        elapsed = time.perf_counter() - start
        assert len(server.connections) == 48
        assert 24 <= server.max_inflight <= 48  # the peak depends on scheduling; a capped pool stays far lower
    assert elapsed < 3 * 0.3 * 4  # ideal 0.9 s; generous for a loaded machine, a stalling pool takes far longer


def test_stopping_early_does_not_hang_or_run_everything():
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("ok"), delay_s=0.05)) as server:
        llm = _client(server.base_url, max_concurrency=2)
        start = time.perf_counter()
        for _ in llm.map(_requests(1000)):
            break
        assert time.perf_counter() - start < 3
        assert server.calls < 10


def test_proxy_from_environment_is_resolved_once_per_endpoint(monkeypatch):
    from reasonembed.llm.client import _env_proxy

    for name in ("http_proxy", "https_proxy", "no_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("http_proxy", "http://proxy.example:3128")
    monkeypatch.setenv("no_proxy", "internal.example")
    assert _env_proxy("http://api.example/v1") == "http://proxy.example:3128"
    assert _env_proxy("http://internal.example:8000/v1") is None
    assert _env_proxy("https://api.example/v1") is None  # no https_proxy set
    llm = _client("http://api.example/v1", "http://internal.example:8000/v1")
    assert llm._proxies == {"http://api.example/v1": "http://proxy.example:3128", "http://internal.example:8000/v1": None}
