"""LLM access for synthesis: an OpenAI-compatible async client and an in-process HF backend.

from reasonembed.llm import LLMConfig, build_llm, ChatRequest, SamplingParams
llm = build_llm(LLMConfig(backend="openai", model="Qwen2.5-72B-Instruct", base_urls=[...]))
for request, result in llm.map(requests):   # completion order; result.error set on failure
    ...
"""

from __future__ import annotations

from reasonembed.llm.base import LLM, ChatRequest, ChatResult, LLMAccounting, SamplingParams, strip_think
from reasonembed.llm.config import LLMConfig


def build_llm(config: LLMConfig) -> LLM:
    """The backend a config names (imports the heavy local backend only when asked for)."""
    if config.backend == "openai":
        from reasonembed.llm.client import OpenAIChatClient

        return OpenAIChatClient(config)
    from reasonembed.llm.local import LocalChatLM

    return LocalChatLM(config)


__all__ = [
    "LLM",
    "ChatRequest",
    "ChatResult",
    "LLMAccounting",
    "LLMConfig",
    "SamplingParams",
    "build_llm",
    "strip_think",
]
