"""Typed configuration of an LLM backend (loadable with `reasonembed.config.load_config`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class LLMConfig:
    backend: Literal["openai", "local"] = field(
        default="local",
        metadata={"help": "'openai': any OpenAI-compatible chat endpoint; 'local': HF causal LM in process."},
    )
    model: str = field(default="", metadata={"help": "Model name sent to the endpoint (openai backend)."})
    base_urls: list[str] = field(
        default_factory=lambda: ["http://127.0.0.1:8000/v1"],
        metadata={"help": "One or more OpenAI-compatible base URLs (…/v1); requests are spread over them."},
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY",
        metadata={"help": "Name of the environment variable holding the API key (unset: no auth)."},
    )
    max_concurrency: int = field(
        default=64, metadata={"help": "Requests in flight at once, over all endpoints."}
    )
    timeout_s: float = field(default=300.0, metadata={"help": "Per-request timeout in seconds."})
    max_retries: int = field(
        default=6, metadata={"help": "Retries on 429/5xx/timeouts/malformed replies before giving up."}
    )
    max_consecutive_failures: int = field(
        default=50,
        metadata={"help": "Stop with an error when this many requests in a row fail after their retries "
                          "(dead endpoint, wrong model, refused key); 0 = never stop."},
    )
    breaker_failures: int = field(
        default=3,
        metadata={"help": "Skip an endpoint after this many connection errors in a row (circuit breaker); 0 = never."},
    )
    breaker_cooldown_s: float = field(
        default=30.0, metadata={"help": "How long a broken endpoint is skipped before one request probes it again."}
    )
    backoff_base_s: float = field(
        default=1.0, metadata={"help": "First backoff delay; doubles per retry, with jitter."}
    )
    backoff_max_s: float = field(default=60.0, metadata={"help": "Cap on one backoff delay."})
    price_per_1k_prompt: float = field(
        default=0.0, metadata={"help": "Cost accounting: price per 1,000 prompt tokens."}
    )
    price_per_1k_completion: float = field(
        default=0.0, metadata={"help": "Cost accounting: price per 1,000 completion tokens."}
    )
    send_top_k: bool = field(
        default=True, metadata={"help": "Send top_k (vLLM/SGLang accept it; OpenAI's API does not)."}
    )
    # local backend
    local_model: str | None = field(
        default=None,
        metadata={
            "help": "Local backend: HF model dir, or a .gguf file; None = bundled SmolLM2-135M-Instruct GGUF."
        },
    )
    local_cache_dir: str | None = field(
        default="~/.cache/reasonembed/llm",
        metadata={"help": "Where a dequantised plain-HF copy of a GGUF model is cached (None: never cache)."},
    )
    batch_size: int = field(
        default=8, metadata={"help": "Local backend: prompts generated together (left padding)."}
    )
    dtype: Literal["fp32", "bf16"] = field(default="fp32", metadata={"help": "Local backend weights dtype."})
    device: str = field(default="cpu", metadata={"help": "Local backend torch device."})
    max_prompt_tokens: int = field(
        default=4096, metadata={"help": "Local backend: longer prompts are cut (left side kept)."}
    )
