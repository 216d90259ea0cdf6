"""What every LLM backend shares: requests, results, accounting, and `<think>` stripping.

The synthesis stages never talk to a backend directly; they hand an iterable of `ChatRequest`s to
`LLM.map(...)` and write each `(request, ChatResult)` the moment it arrives, so a killed stage keeps
everything already answered. Two backends implement the interface:

* `OpenAIChatClient` (client.py): any OpenAI-compatible chat endpoint (vLLM, SGLang, Ollama, hosted),
  async with bounded concurrency, retries and several endpoints sharing the load;
* `LocalChatLM` (local.py): an HF causal LM in process, batched with left padding.

A failed request is never guessed: its `ChatResult.error` is set and `text` is empty, and the
accounting counts it. Accounting is thread-safe and can be appended to a JSONL file in the run dir
(`LLMAccounting.dump`) so that `synth stats` can report calls, tokens, failures, retries and cost.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasonembed.errors import ReasonEmbedError

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)


def strip_think(text: str) -> str:
    """Drop `<think>…</think>` blocks; an unclosed leading block ending in `</think>` is cut too.

    Reasoning models (Qwen3, DeepSeek-R1) put their chain of thought there; the stages only want the
    answer. A lone `</think>` (the server already removed the opening tag) keeps what follows it.
    """
    text = _THINK_BLOCK.sub("", text)
    if "</think>" in text.lower():
        text = re.split(r"</think>", text, flags=re.IGNORECASE)[-1]
    text = re.sub(r"<think>.*\Z", "", text, flags=re.DOTALL | re.IGNORECASE)  # never closed: all thought
    return text.strip()


@dataclass(frozen=True)
class SamplingParams:
    """Sampling knobs sent with every request (None = leave the server's default); also the type of
    every stage's `sampling:` section in the configs."""

    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (0 = greedy)."})
    top_p: float = field(default=1.0, metadata={"help": "Nucleus sampling mass."})
    top_k: int | None = field(default=None, metadata={"help": "Top-k (None = server default)."})
    max_tokens: int = field(default=1024, metadata={"help": "Most tokens to generate."})

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to run. `key` is opaque to the backend and comes back with the result.

    `extra` holds additional request fields a stage's config asks for (e.g.
    `{"chat_template_kwargs": {"enable_thinking": False}}`): the OpenAI-compatible client merges them
    into the request body; the local backend passes `chat_template_kwargs` to the chat template and
    ignores other keys with a warning.
    """

    key: Any
    messages: list[dict[str, str]]
    sampling: SamplingParams = field(default_factory=SamplingParams)
    seed: int | None = None
    extra: dict[str, Any] | None = None


@dataclass
class ChatResult:
    text: str = ""  # answer with <think> blocks stripped; "" when the request failed
    raw_text: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    retries: int = 0
    latency_s: float = 0.0
    endpoint: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class LLMAccounting:
    """Counters for one backend. `record` is called once per finished request (after its retries)."""

    price_per_1k_prompt: float = 0.0
    price_per_1k_completion: float = 0.0
    calls: int = 0
    ok: int = 0
    failed: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record(self, result: ChatResult) -> None:
        with self._lock:
            self.calls += 1
            self.retries += result.retries
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
            if result.ok:
                self.ok += 1
            else:
                self.failed += 1
                kind = (result.error or "error").split(":", 1)[0]
                self.errors[kind] = self.errors.get(kind, 0) + 1

    @property
    def cost(self) -> float:
        return (
            self.prompt_tokens * self.price_per_1k_prompt
            + self.completion_tokens * self.price_per_1k_completion
        ) / 1000

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self.calls,
                "ok": self.ok,
                "failed": self.failed,
                "retries": self.retries,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "cost": round(self.cost, 6),
                "errors": dict(self.errors),
            }

    def dump(
        self, path: str | Path, stage: str, model: str, wall_s: float, since: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Append this stage run's counters (minus `since`, an earlier snapshot) to a JSONL file."""
        now = self.snapshot()
        delta = dict(now)
        if since:
            for key in ("calls", "ok", "failed", "retries", "prompt_tokens", "completion_tokens"):
                delta[key] = now[key] - since.get(key, 0)
            delta["cost"] = round(now["cost"] - since.get("cost", 0.0), 6)
            delta["errors"] = {k: v - since.get("errors", {}).get(k, 0) for k, v in now["errors"].items()}
            delta["errors"] = {k: v for k, v in delta["errors"].items() if v}
        line = {"stage": stage, "model": model, "wall_s": round(wall_s, 3), "time": time.time(), **delta}
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")
        return line


class LLMUnavailableError(ReasonEmbedError):
    """Every recent request failed: the endpoint is down, the model name is wrong, the key is refused."""


class FailureStreak:
    """Stops a run when `limit` requests in a row fail after their retries (0 = never stop).

    One failed record is a per-record problem and is counted and skipped; a long unbroken run of
    failures means every call will fail (unreachable URL, 401, 404 for a wrong model), and carrying
    on would only write empty outputs and exit 0.
    """

    def __init__(self, limit: int, where: str):
        self.limit = limit
        self.where = where
        self.count = 0

    def record(self, result: ChatResult) -> None:
        if result.ok:
            self.count = 0
            return
        self.count += 1
        if self.limit and self.count >= self.limit:
            raise LLMUnavailableError(
                f"{self.count} LLM requests in a row failed ({self.where}); last error: {result.error}. "
                "Check llm.base_urls, llm.model and the API key (llm.api_key_env); "
                "llm.max_consecutive_failures sets this limit"
            )


class LLM:
    """Interface of a chat backend. Subclasses implement `map`; `chat` is a one-off convenience."""

    model: str = ""
    backend: str = ""
    accounting: LLMAccounting

    def map(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[ChatRequest, ChatResult]]:
        """Run every request; yield `(request, result)` as each finishes (completion order)."""
        raise NotImplementedError

    def chat(
        self, messages: list[dict[str, str]], sampling: SamplingParams | None = None, seed: int | None = None
    ) -> ChatResult:
        request = ChatRequest(key=0, messages=messages, sampling=sampling or SamplingParams(), seed=seed)
        for _, result in self.map([request]):
            return result
        raise RuntimeError("backend returned no result")

    def describe(self) -> dict[str, Any]:
        return {"backend": self.backend, "model": self.model}

    def close(self) -> None:  # noqa: B027 - optional hook
        pass
