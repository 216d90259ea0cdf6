"""Redapter trainer: HF `Trainer` with a contrastive loss, one-domain batches and a sentence-transformers save.

Only three things differ from the stock Trainer (so torchrun / accelerate launch, DDP, FSDP, DeepSpeed,
schedulers and checkpointing work unchanged):

* `compute_loss` calls the loss module (InfoNCE or RI-InfoNCE, optionally wrapped in GradCache) after
  telling it the number of optimizer steps taken (`state.global_step`, which drives RI warm-up), and
  keeps its named parts (unweighted InfoNCE, RI min/median/mean/max) for `log`;
* the sampler: `DomainBatchSampler` keys fed through a batch-size-1 DataLoader (see data.py);
* `_save`: a checkpoint folder gets the trainable weights (which `_load_from_checkpoint` loads back on
  `resume_from_checkpoint`; optimizer, scheduler, RNG and data position are the Trainer's own), the
  final folder gets a sentence-transformers directory (LoRA merged) plus the resolved config,
  package version and git SHA. Under FSDP, `save_model` first gathers the consolidated weights for the
  final folder (the live parameters are shards).

Optional dev evaluation runs through `DevEvalCallback`, which reuses `reasonembed.evaluation.runner`.
"""

from __future__ import annotations

import json
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainerCallback, enable_full_determinism, set_seed
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

from reasonembed.config import provenance_stamp
from reasonembed.errors import ConfigError
from reasonembed.io import atomic_write
from reasonembed.losses import GradCache, InfoNCELoss, RIInfoNCELoss
from reasonembed.redapter.config import (
    LossConfig,
    ModelConfig,
    RedapterConfig,
    resolve_precision,
    resolved_dict,
)
from reasonembed.redapter.data import (
    DomainBatchSampler,
    GroupedBatchDataset,
    RedapterCollator,
    check_negatives,
    check_reasoning_queries,
    domain_sizes,
    load_samples,
)

logger = logging.getLogger(__name__)
RUN_CONFIG_FILE = "redapter_config.json"


def build_loss(model: nn.Module, cfg: LossConfig) -> nn.Module:
    if cfg.name == "ri_infonce":
        loss: nn.Module = RIInfoNCELoss(model, cfg.temperature, kappa=cfg.kappa, warmup_steps=cfg.ri_warmup_steps,
                                        cross_device=cfg.cross_device)
    else:
        loss = InfoNCELoss(model, cfg.temperature, cross_device=cfg.cross_device)
    if cfg.gradcache_mini_batch_size > 0:
        loss = GradCache(loss, cfg.gradcache_mini_batch_size)
    return loss


def _base_loss(loss: nn.Module) -> nn.Module:
    return loss.loss if isinstance(loss, GradCache) else loss


def _is_sharded(model: nn.Module) -> bool:
    """True when FSDP holds the parameters as shards: FSDP2 (`fully_shard`, DTensor parameters) or FSDP1."""
    from torch.distributed.fsdp import FullyShardedDataParallel
    from torch.distributed.tensor import DTensor

    if isinstance(model, FullyShardedDataParallel):
        return True
    return any(isinstance(p, DTensor) for p in model.parameters())


class RedapterTrainer(Trainer):
    """HF Trainer for an `Embedder` and a contrastive loss module over `GroupedBatchDataset` batches."""

    def __init__(self, *args: Any, loss: nn.Module, sampler: DomainBatchSampler,
                 run_config: dict[str, Any] | None = None, model_config: ModelConfig | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.loss = loss
        self.sampler = sampler
        self.run_config = run_config or {}
        self.model_config = model_config
        self._parts: dict[str, list[torch.Tensor]] = defaultdict(list)

    # ---------------------------------------------------------------- loss
    def compute_loss(self, model: nn.Module, inputs: dict[str, Any], return_outputs: bool = False,
                     num_items_in_batch: Any = None) -> torch.Tensor | tuple[torch.Tensor, Any]:
        base = _base_loss(self.loss)
        base.model = model  # the DDP/FSDP-wrapped module when distributed, so gradients get synchronised
        if isinstance(base, RIInfoNCELoss):
            base.step = self.state.global_step  # optimizer steps, not micro-batches
        out = self.loss(inputs["features"], inputs["labels"])
        if model.training:
            for key, value in out.items():
                if key != "loss":
                    self._parts[key].append(value.detach().float())
        return (out["loss"], out) if return_outputs else out["loss"]

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if "loss" in logs and self._parts:  # a training log: add the loss parts since the last one
            for key, values in self._parts.items():
                logs[key] = round(torch.stack(values).mean().item(), 6)
            self._parts.clear()
        super().log(logs, start_time)

    # ---------------------------------------------------------------- data
    def _get_train_sampler(self, train_dataset: Any = None) -> DomainBatchSampler:
        return self.sampler

    def get_train_dataloader(self) -> Any:
        # batch size 1: each dataset item is one per-device batch (one domain, sampled groups)
        return self._get_dataloader(self.train_dataset, "Training", batch_size=1,
                                    sampler_fn=self._get_train_sampler, is_training=True)

    # ---------------------------------------------------------------- saving
    def save_model(self, output_dir: str | None = None, _internal_call: bool = False) -> None:
        """The final model under FSDP is gathered whole on rank 0 first (a collective: every rank calls this).

        The stock Trainer saves FSDP models as shards unless `fsdp_config.state_dict_type` is FULL_STATE_DICT, and
        never calls `_save` for shards; a sentence-transformers model needs the consolidated weights either way.
        Checkpoints (`_internal_call`) keep the Trainer's own FSDP handling.
        """
        if not _internal_call and _is_sharded(self.model_wrapped):
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

            options = StateDictOptions(full_state_dict=True, cpu_offload=True)
            self._save(output_dir, state_dict=get_model_state_dict(self.model_wrapped, options=options))
            return
        super().save_model(output_dir, _internal_call)

    def _whole_embedder(self, state_dict: dict[str, torch.Tensor]) -> nn.Module:
        """A fresh, unsharded Embedder (LoRA included) holding `state_dict`: FSDP shards cannot be merged or saved."""
        from reasonembed.redapter.modeling import build_embedder

        if self.model_config is None:
            raise ConfigError("saving an FSDP-sharded model needs the trainer's model_config (use build_trainer)")
        whole = build_embedder(self.model_config, "cpu", bf16=False, checkpointing=False)
        whole.load_state_dict(state_dict, strict=True)
        whole.dtype_name = self.accelerator.unwrap_model(self.model).dtype_name
        return whole

    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        output_dir = output_dir or self.args.output_dir
        if not self.args.should_save:
            return
        os.makedirs(output_dir, exist_ok=True)
        embedder = self.accelerator.unwrap_model(self.model)
        if Path(output_dir).name.startswith(PREFIX_CHECKPOINT_DIR):
            import safetensors.torch

            state_dict = state_dict if state_dict is not None else embedder.state_dict()
            trainable = {n for n, p in embedder.named_parameters() if p.requires_grad}
            if len(trainable) < len(state_dict):  # LoRA: the frozen base comes back from the base model
                state_dict = {k: v for k, v in state_dict.items() if k in trainable}
            tensors = {k: v.detach().contiguous().clone() for k, v in state_dict.items()}
            safetensors.torch.save_file(tensors, os.path.join(output_dir, "model.safetensors"),
                                        metadata={"format": "pt"})
            return
        if state_dict is not None and _is_sharded(self.model_wrapped):  # FSDP: the live parameters are shards
            embedder = self._whole_embedder(state_dict)
        stamp = provenance_stamp()
        embedder.save(output_dir, extra_meta={"trained_with": "reasonembed train (Redapter)", **stamp})
        record = {"config": self.run_config, "loss": _base_loss(self.loss).get_config_dict(),
                  "global_step": self.state.global_step, **stamp}
        atomic_write(Path(output_dir, RUN_CONFIG_FILE), json.dumps(record, indent=2, default=str) + "\n")
        logger.info("saved sentence-transformers model to %s", output_dir)

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model: nn.Module | None = None) -> None:
        """Load what `_save` wrote into a checkpoint (all trainable weights; LoRA: the adapters only)."""
        import safetensors.torch

        embedder = self.accelerator.unwrap_model(model or self.model)
        path = Path(resume_from_checkpoint, "model.safetensors")
        if not path.exists():
            raise ConfigError(f"{resume_from_checkpoint}: no model.safetensors; not a reasonembed training checkpoint")
        result = embedder.load_state_dict(safetensors.torch.load_file(str(path), device="cpu"), strict=False)
        trainable = {n for n, p in embedder.named_parameters() if p.requires_grad}
        missing = [k for k in result.missing_keys if k in trainable]
        if result.unexpected_keys or missing:
            raise ConfigError(f"{path}: does not match the model (unexpected {result.unexpected_keys[:5]}, "
                              f"missing {missing[:5]}); same model.* settings as the run that wrote it?")
        logger.info("loaded %d tensors from %s", len(trainable), path)


class DevEvalCallback(TrainerCallback):
    """nDCG@10 on a BRIGHT-layout dev folder every N optimizer steps and at the end (main process)."""

    def __init__(self, trainer: RedapterTrainer, dataset: str, every: int, instruction: str | None) -> None:
        self.trainer, self.dataset, self.every, self.instruction = trainer, dataset, every, instruction
        self.history: list[dict[str, float]] = []

    def _run(self, step: int) -> None:
        from reasonembed.evaluation.runner import evaluate

        if not self.trainer.args.should_save:
            return
        embedder = self.trainer.accelerator.unwrap_model(self.trainer.model)
        results = evaluate(embedder, self.dataset, instruction=self.instruction)
        metrics = {f"dev_{k}": v for k, v in results["average"].items() if k in ("ndcg@10", "recall@100")}
        embedder.train()
        self.history.append({"step": step, **metrics})
        self.trainer.log(metrics)

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if self.every > 0 and state.global_step % self.every == 0:
            self._run(state.global_step)

    def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        if not (self.every > 0 and state.global_step % self.every == 0):
            self._run(state.global_step)


def resolve_checkpoint(resume: str | None, output_dir: str | None) -> str | None:
    """`--resume`: None, 'latest' (the newest checkpoint-N in output_dir) or a checkpoint folder -> its path."""
    from transformers.trainer_utils import get_last_checkpoint

    if resume is None:
        return None
    if resume == "latest":
        latest = get_last_checkpoint(output_dir) if output_dir and Path(output_dir).is_dir() else None
        if latest is None:
            raise ConfigError(f"--resume latest: no checkpoint-N folder in train.output_dir {output_dir}; "
                              "drop --resume to start a new run")
        return latest
    if not Path(resume).is_dir():
        raise ConfigError(f"--resume {resume}: checkpoint folder not found")
    return resume


def build_trainer(cfg: RedapterConfig) -> RedapterTrainer:
    """Config -> a ready `RedapterTrainer` (model, loss, data, sampler, optional dev evaluation)."""
    from reasonembed.redapter.modeling import build_embedder

    cfg = resolve_precision(cfg)
    args = cfg.train
    if args.fsdp and args.world_size < 2:  # the Trainer would raise a bare ValueError much later
        raise ConfigError("train.fsdp shards the model over several processes: launch with torchrun or "
                          "accelerate launch, or drop train.fsdp")
    # data first: a bad file or a batch size the data cannot fill fails before the model is loaded
    samples = load_samples(cfg.data.train_files)
    sizes = domain_sizes(samples, cfg.data.group_size, args.per_device_train_batch_size, cfg.data.use_data_sizes)
    check_negatives(samples, sizes)
    if cfg.loss.name == "ri_infonce":
        check_reasoning_queries(samples, cfg.loss.missing_reasoning_query)
    seed = args.data_seed if args.data_seed is not None else args.seed
    sampler = DomainBatchSampler([str(s.domain) for s in samples], sizes, args.world_size, seed)
    dataset = GroupedBatchDataset(samples, sizes, seed)
    checkpointing = bool(args.activation_checkpointing or args.gradient_checkpointing)
    # Seed before the model is built: peft draws the LoRA A matrices from the global RNG, and the Trainer's
    # own seeding (in its __init__) comes too late for them. Same train.seed -> same model.
    if args.full_determinism:
        enable_full_determinism(args.seed)
    else:
        set_seed(args.seed)
    embedder = build_embedder(cfg.model, args.device, args.bf16, checkpointing)
    if checkpointing:  # already enabled on the backbone; the Trainer would look for it on the Embedder
        args.activation_checkpointing = args.gradient_checkpointing = False
    collator = RedapterCollator(embedder, cfg.model.max_query_length, cfg.model.max_passage_length,
                                with_reasoning=cfg.loss.name == "ri_infonce")
    trainer = RedapterTrainer(model=embedder, args=args, train_dataset=dataset, data_collator=collator,
                              loss=build_loss(embedder, cfg.loss), sampler=sampler, run_config=resolved_dict(cfg),
                              model_config=cfg.model)
    if args.fsdp and not trainer.is_fsdp_enabled:
        logger.warning("train.fsdp is set but accelerate did not enable FSDP on %s (it shards on GPU-type devices "
                       "only): the model is not sharded, every process holds all of it (DDP)", args.device)
    if cfg.data.dev_dataset:
        trainer.add_callback(DevEvalCallback(trainer, cfg.data.dev_dataset, cfg.data.dev_every_steps,
                                             cfg.data.dev_instruction))
    return trainer
