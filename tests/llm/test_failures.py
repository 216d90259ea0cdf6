"""Systematic failure is loud: a dead endpoint, a wrong model or a refused key stops the run with an error
naming the cause; one bad record is still counted and skipped; a bug in our code is never an "LLM failure"."""

from __future__ import annotations

import shutil
import socket
import time

import pytest
from openai_server import Reply, ScriptedOpenAIServer, completion

from reasonembed.llm import ChatRequest, LLMConfig, SamplingParams, build_llm
from reasonembed.llm.base import LLMUnavailableError


def _client(*urls: str, **kw):
    return build_llm(LLMConfig(backend="openai", model="m", base_urls=list(urls), backoff_base_s=0.01,
                               backoff_max_s=0.02, timeout_s=5.0, **kw))


def _requests(n: int, **kw) -> list[ChatRequest]:
    return [ChatRequest(i, [{"role": "user", "content": f"q{i}"}], SamplingParams(0.0, 1.0, None, 4), **kw)
            for i in range(n)]


def closed_port_url() -> str:
    with socket.socket() as s:  # bound then closed: nobody listens, connections are refused
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


@pytest.mark.parametrize("status", [401, 404])
def test_every_call_refused_stops_after_the_bound_naming_the_status(status):
    with ScriptedOpenAIServer(lambda body, n: Reply(status, {"error": "model 'm' not found"})) as server:
        llm = _client(server.base_url, max_concurrency=4, max_consecutive_failures=10)
        got = []
        with pytest.raises(LLMUnavailableError, match=f"http {status}") as info:
            for item in llm.map(_requests(500)):
                got.append(item)
        assert server.calls < 30  # bounded: it did not grind through all 500
    assert "10 LLM requests in a row failed" in str(info.value) and server.base_url in str(info.value)
    assert len(got) >= 10 and not any(res.ok for _, res in got)  # what failed before the stop is still reported


def test_unreachable_endpoint_stops_naming_the_connection_error():
    llm = _client(closed_port_url(), max_concurrency=2, max_retries=1, max_consecutive_failures=5)
    with pytest.raises(LLMUnavailableError, match="connection"):
        list(llm.map(_requests(200)))


def test_scattered_record_failures_are_counted_not_fatal():
    def script(body, n):  # every third request is refused (say, a prompt too long for the model)
        return Reply(400, {"error": "too long"}) if n % 3 == 0 else Reply(body=completion("ok"))
    with ScriptedOpenAIServer(script) as server:
        llm = _client(server.base_url, max_concurrency=1, max_consecutive_failures=2)
        results = [res for _, res in llm.map(_requests(30))]
    assert len(results) == 30 and sum(not r.ok for r in results) == 10


@pytest.fixture(scope="module")
def tiny_chat_model(tiny_qwen3_path, tmp_path_factory):
    from transformers import AutoTokenizer

    path = tmp_path_factory.mktemp("tiny-chat") / "model"
    shutil.copytree(tiny_qwen3_path, path)
    tok = AutoTokenizer.from_pretrained(path)
    tok.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                         "{% if enable_thinking is defined and not enable_thinking %}/no_think\n{% endif %}"
                         "{% if add_generation_prompt %}assistant:{% endif %}")
    tok.save_pretrained(path)
    return build_llm(LLMConfig(backend="local", local_model=str(path), local_cache_dir=None, batch_size=2))


def test_local_backend_raises_programming_errors_instead_of_counting_them(tiny_chat_model):
    bad = [ChatRequest(0, [{"role": "user", "content": "hi"}], SamplingParams(0.0, 1.0, None, -1))]
    with pytest.raises(ValueError, match="max_new_tokens"):
        list(tiny_chat_model.map(bad))
    assert tiny_chat_model.accounting.snapshot()["failed"] == 0


def test_local_backend_maps_chat_template_kwargs_and_ignores_other_fields(tiny_chat_model, caplog):
    plain = [res for _, res in tiny_chat_model.map(_requests(1))][0]
    extra = {"chat_template_kwargs": {"enable_thinking": False}, "repetition_penalty": 1.1}
    with caplog.at_level("WARNING"):
        mapped = [res for _, res in tiny_chat_model.map(_requests(1, extra=extra))][0]
    assert plain.ok and mapped.ok
    assert mapped.prompt_tokens > plain.prompt_tokens  # the template saw enable_thinking=False
    assert "repetition_penalty" in caplog.text


def test_dead_endpoint_is_circuit_broken_with_one_warning(caplog, scripted_openai_server):
    dead = closed_port_url()
    a, b = (scripted_openai_server(lambda body, n: Reply(body=completion("ok"), delay_s=0.02)) for _ in range(2))
    with caplog.at_level("WARNING"):
        llm = _client(dead, a.base_url, b.base_url, max_concurrency=6, max_retries=3, breaker_failures=2,
                      breaker_cooldown_s=60)
        results = [res for _, res in llm.map(_requests(120))]
    assert a.calls + b.calls == 120
    assert all(r.ok for r in results)
    # the dead endpoint cost 2 connection errors (one per request that hit it), then was skipped
    assert llm.accounting.snapshot()["retries"] <= 2 + 6  # at most the requests already in flight toward it
    warnings = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1 and dead in warnings[0].getMessage()


def test_broken_endpoint_is_probed_again_after_the_cool_down():
    dead = closed_port_url()
    port = int(dead.rsplit(":", 1)[1].split("/")[0])
    with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("ok"))) as live:
        llm = _client(dead, live.base_url, max_concurrency=1, max_retries=2, breaker_failures=1, breaker_cooldown_s=2.0)
        # equally idle endpoints are picked at random: send one request at a time until the dead one was tried
        for _ in range(64):
            assert all(res.ok for _, res in llm.map(_requests(1)))
            if llm.accounting.snapshot()["retries"]:
                break
        assert llm.accounting.snapshot()["retries"] == 1
        assert all(res.ok for _, res in llm.map(_requests(8)))
        assert llm.accounting.snapshot()["retries"] == 1  # one connection error, then the breaker skips it
        with ScriptedOpenAIServer(lambda body, n: Reply(body=completion("revived")), port=port):  # back on its port
            time.sleep(2.1)
            texts = [res.text for _, res in llm.map(_requests(10))]
    assert "revived" in texts  # probed after the cool-down, found alive, used again


def test_every_endpoint_dead_still_stops_loudly():
    llm = _client(closed_port_url(), closed_port_url(), closed_port_url(), max_concurrency=3, max_retries=2,
                  breaker_failures=1, breaker_cooldown_s=60, max_consecutive_failures=6)
    with pytest.raises(LLMUnavailableError, match="6 LLM requests in a row failed.*connection"):
        list(llm.map(_requests(300)))
