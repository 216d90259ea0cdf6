"""OpenAIChatClient against a real local HTTP server with scripted replies."""

from __future__ import annotations

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
