"""Async client for OpenAI-compatible chat endpoints (vLLM, SGLang, Ollama, hosted APIs).

Why hand-rolled on httpx rather than the `openai` SDK: synthesis needs behaviour the SDK does not
expose as one policy — bounded concurrency over several endpoints, retries with exponential backoff
and jitter that also cover malformed 200 replies, per-request token accounting, and streaming
results back to a synchronous stage as each request finishes.

* Concurrency: `max_concurrency` worker coroutines pull requests lazily from the iterable (memory
  stays bounded for millions of judge pairs); each request goes to the endpoint with the fewest
  requests in flight, and a retry prefers a different endpoint.
* Retries: 408/409/425/429/5xx, timeouts, connection errors and malformed bodies are retried up to
  `max_retries` times, waiting `d/2 + U(0, d/2)` with `d = min(backoff_max, backoff_base * 2**attempt)`
  (at least the server's `Retry-After`). Other 4xx fail at once. A request that never succeeds
  yields a `ChatResult` with `error` set — it is counted, never guessed.
* `map()` runs the event loop in a helper thread and yields `(request, result)` in completion order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import queue
import random
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpx

from reasonembed.errors import ConfigError
from reasonembed.llm.base import LLM, ChatRequest, ChatResult, LLMAccounting, strip_think
from reasonembed.llm.config import LLMConfig

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 409, 425, 429}) | frozenset(range(500, 600))
_DONE = object()
POOL_SHARD = 1


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class _Fatal(Exception):
    pass


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_completion(body: Any) -> tuple[str, int, int, str | None]:
    """(content, prompt_tokens, completion_tokens, finish_reason) from a chat.completion body."""
    if not isinstance(body, dict) or not isinstance(body.get("choices"), list) or not body["choices"]:
        raise _Retryable("malformed: reply has no 'choices'")
    choice = body["choices"][0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        raise _Retryable("malformed: choice has no 'message'")
    content = message.get("content")
    if content is None:
        content = ""
    if not isinstance(content, str):
        raise _Retryable("malformed: message content is not a string")
    usage = body.get("usage") or {}
    return (
        content,
        int(usage.get("prompt_tokens") or 0),
        int(usage.get("completion_tokens") or 0),
        choice.get("finish_reason"),
    )


class OpenAIChatClient(LLM):
    backend = "openai"

    def __init__(self, config: LLMConfig, rng_seed: int | None = None):
        if not config.base_urls:
            raise ConfigError("llm.base_urls: give at least one OpenAI-compatible base URL")
        if config.max_concurrency < 1:
            raise ConfigError(f"llm.max_concurrency must be >= 1, got {config.max_concurrency}")
        if not config.model:
            raise ConfigError("llm.model: the openai backend needs a model name")
        self.config = config
        self.model = config.model
        self.endpoints = [url.rstrip("/") for url in config.base_urls]
        self.accounting = LLMAccounting(config.price_per_1k_prompt, config.price_per_1k_completion)
        self._rng = random.Random(rng_seed)
        api_key = os.environ.get(config.api_key_env) if config.api_key_env else None
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model, "endpoints": len(self.endpoints)}

    # -- one request ---------------------------------------------------------------------------
    def _payload(self, request: ChatRequest) -> dict[str, Any]:
        sampling = request.sampling.to_dict()
        if not self.config.send_top_k:
            sampling.pop("top_k", None)
        payload: dict[str, Any] = {"model": self.model, "messages": request.messages, **sampling}
        if request.seed is not None:
            payload["seed"] = request.seed
        return payload

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        cap = min(self.config.backoff_max_s, self.config.backoff_base_s * (2**attempt))
        delay = cap / 2 + self._rng.uniform(0, cap / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.config.backoff_max_s))
        return delay

    async def _attempt(self, http: httpx.AsyncClient, endpoint: str, payload: dict[str, Any]) -> ChatResult:
        try:
            response = await http.post(
                f"{endpoint}/chat/completions", content=json.dumps(payload), headers=self._headers
            )
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout: {type(exc).__name__}") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection: {type(exc).__name__}: {exc}") from None
        if response.status_code in RETRYABLE_STATUS:
            raise _Retryable(f"http {response.status_code}: {response.text[:200]}", _retry_after(response))
        if response.status_code >= 400:
            raise _Fatal(f"http {response.status_code}: {response.text[:300]}")
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise _Retryable(f"malformed: reply is not JSON: {response.text[:80]!r}") from None
        content, p_tok, c_tok, finish = parse_completion(body)
        return ChatResult(strip_think(content), content, p_tok, c_tok, finish, endpoint=endpoint)

    async def _run_one(
        self, http: httpx.AsyncClient, request: ChatRequest, inflight: dict[str, int]
    ) -> ChatResult:
        payload = self._payload(request)
        start = time.perf_counter()
        last_error = "error: no attempt"
        avoid: str | None = None
        for attempt in range(self.config.max_retries + 1):
            endpoint = self._pick(inflight, avoid)
            inflight[endpoint] += 1
            try:
                result = await self._attempt(http, endpoint, payload)
                result.retries = attempt
                result.latency_s = time.perf_counter() - start
                return result
            except _Fatal as exc:
                last_error = str(exc)
                break
            except _Retryable as exc:
                last_error = str(exc)
                avoid = endpoint
                if attempt == self.config.max_retries:
                    break
                delay = self._backoff(attempt, exc.retry_after)
                logger.debug("retry %d after %.2fs: %s", attempt + 1, delay, exc)
            finally:
                inflight[endpoint] -= 1
            await asyncio.sleep(delay)
        retries = attempt
        return ChatResult(retries=retries, latency_s=time.perf_counter() - start, error=last_error)

    def _pick(self, inflight: dict[str, int], avoid: str | None) -> str:
        choices = [e for e in self.endpoints if e != avoid] or self.endpoints
        low = min(inflight[e] for e in choices)
        best = [e for e in choices if inflight[e] == low]
        return best[0] if len(best) == 1 else self._rng.choice(best)

    # -- many requests -------------------------------------------------------------------------
    async def _run_all(
        self, requests: Iterable[ChatRequest], out: queue.Queue, stop: threading.Event
    ) -> None:
        iterator = iter(requests)
        inflight = {e: 0 for e in self.endpoints}
        n = self.config.max_concurrency
        # httpx's pool stalls (seconds) when one client multiplexes many connections at once; a few
        # small clients (<= POOL_SHARD connections each) keep throughput near ideal at concurrency 64
        shards = max(1, -(-n // POOL_SHARD))
        per = -(-n // shards)
        limits = httpx.Limits(max_connections=per, max_keepalive_connections=per)
        timeout = httpx.Timeout(self.config.timeout_s)
        clients = [httpx.AsyncClient(limits=limits, timeout=timeout) for _ in range(shards)]

        async def worker(http: httpx.AsyncClient) -> None:
            while not stop.is_set():
                try:
                    request = next(iterator)
                except StopIteration:
                    return
                result = await self._run_one(http, request, inflight)
                self.accounting.record(result)
                out.put((request, result))

        try:
            await asyncio.gather(*(worker(clients[i % shards]) for i in range(n)))
        finally:
            for http in clients:
                await http.aclose()

    def map(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[ChatRequest, ChatResult]]:
        out: queue.Queue = queue.Queue()
        stop = threading.Event()

        def runner() -> None:
            try:
                asyncio.run(self._run_all(requests, out, stop))
            except BaseException as exc:  # surfaced in the consumer thread
                out.put(exc)
            finally:
                out.put(_DONE)

        thread = threading.Thread(target=runner, name="llm-client", daemon=True)
        thread.start()
        try:
            while True:
                item = out.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            thread.join(timeout=self.config.timeout_s + 5)
