"""Build the model under training: an `Embedder`, with LoRA for decoders and full fine-tuning for encoders.

ReasonEmbed trains decoder backbones (Qwen3, Llama) with LoRA rank 32 / alpha 64 / dropout 0.1 on
every attention and MLP projection, last-token pooling and gradient checkpointing (METHOD.md §4.2);
encoders (the bundled MiniLM) are small enough to fine-tune fully.
"""

from __future__ import annotations

import logging
from typing import Any

import torch

from reasonembed.embedder import Embedder, is_encoder
from reasonembed.errors import ConfigError
from reasonembed.redapter.config import ModelConfig

logger = logging.getLogger(__name__)


def uses_lora(cfg: ModelConfig, backbone_config: Any) -> bool:
    if cfg.lora is None:
        return not is_encoder(backbone_config)
    return cfg.lora


def build_embedder(cfg: ModelConfig, device: torch.device | str, bf16: bool, checkpointing: bool) -> Embedder:
    """Load the backbone as an `Embedder`, add LoRA adapters when asked, enable activation checkpointing."""
    on_gpu = torch.device(device).type == "cuda"
    emb = Embedder(
        cfg.model_name_or_path,
        pooling=cfg.pooling,
        normalize=cfg.normalize,
        query_template=cfg.query_template,
        instruction=cfg.instruction,
        max_query_length=cfg.max_query_length,
        max_doc_length=cfg.max_passage_length,
        dtype="fp32",
        device=device,
        trust_remote_code=cfg.trust_remote_code,
    )
    lora = uses_lora(cfg, emb.backbone.config)
    if lora and bf16 and on_gpu:
        emb.backbone.to(torch.bfloat16)  # frozen base in bf16; peft keeps the adapters in fp32
        emb.dtype_name = "bf16"
    if checkpointing:
        emb.backbone.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if lora:
        from peft import LoraConfig, get_peft_model

        present = {name.rsplit(".", 1)[-1] for name, _ in emb.backbone.named_modules()}
        targets = [t for t in cfg.lora_target_modules if t in present]
        if not targets:
            raise ConfigError(
                f"model.lora_target_modules {cfg.lora_target_modules} match no module of "
                f"{emb.backbone.config.model_type}; modules include {sorted(present)[:20]}"
            )
        peft_cfg = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                              target_modules=targets, task_type="FEATURE_EXTRACTION")
        emb.backbone = get_peft_model(emb.backbone, peft_cfg)
    trainable = sum(p.numel() for p in emb.parameters() if p.requires_grad)
    total = sum(p.numel() for p in emb.parameters())
    logger.info("model %s: pooling=%s lora=%s trainable %s / %s parameters",
                emb.model_name_or_path, emb.pooling, lora, f"{trainable:,}", f"{total:,}")
    emb.train()
    return emb
