"""Typed configuration of a Redapter run: one dataclass per concern, loaded from YAML + CLI overrides.

    cfg = load_train_config("recipes/reasonembed-qwen3-8b.yaml", ["train.learning_rate=5e-5"])

`RedapterConfig` nests `ModelConfig`, `DataConfig`, `LossConfig` and `TrainConfig` (HF
`TrainingArguments` with ReasonEmbed's defaults), so every HF Trainer option (DeepSpeed, FSDP,
checkpointing, schedulers) is reachable as `train.<option>=...`. Defaults are the published ones
(METHOD.md §4.2); the recipe YAMLs restate them with their sources.
"""

from __future__ import annotations

import dataclasses
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from transformers import TrainingArguments

from reasonembed.config import config_to_dict, load_config
from reasonembed.errors import ConfigError

RECIPES = Path(__file__).resolve().parents[1] / "recipes"
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def _help(text: str, **kwargs: Any) -> Any:
    return field(metadata={"help": text}, **kwargs)


@dataclass
class ModelConfig:
    model_name_or_path: str | None = _help(
        "Backbone: local dir, sentence-transformers dir or hub id; null = the bundled all-MiniLM-L6-v2.", default=None)
    pooling: Literal["mean", "cls", "last_token"] | None = _help(
        "Pooling; null = the saved model's, else mean for encoders and last_token for decoders.", default=None)
    normalize: bool = _help("L2-normalise embeddings (the loss then scores cosine similarity).", default=True)
    query_template: str | None = _help(
        "How a query joins its task instruction; null = 'Instruct: {instruction}\\nQuery: {query}'.", default=None)
    instruction: str | None = _help(
        "Instruction saved with the model as its default query prompt (training uses each sample's `prompt`).",
        default=None)
    max_query_length: int = _help("Max tokens of a query and of q' (ReasonEmbed: 512).", default=512)
    max_passage_length: int = _help("Max tokens of a passage (ReasonEmbed: 512).", default=512)
    lora: bool | None = _help(
        "LoRA adapters: null = on for decoders (Qwen3, Llama), off (full fine-tune) for encoders.", default=None)
    lora_r: int = _help("LoRA rank (ReasonEmbed: 32).", default=32)
    lora_alpha: int = _help("LoRA alpha (ReasonEmbed: 64).", default=64)
    lora_dropout: float = _help("LoRA dropout (FlagEmbedding default 0.1).", default=0.1)
    lora_target_modules: list[str] = _help(
        "Projections that get adapters (all attention and MLP projections).", default_factory=lambda: list(LORA_TARGETS))
    precision: Literal["auto", "bf16", "fp32"] = _help(
        "auto = bf16 mixed precision on a GPU that supports it, fp32 otherwise; bf16 on CPU uses autocast.",
        default="auto")
    trust_remote_code: bool = _help("Allow custom modelling code from the model directory.", default=False)


@dataclass
class DataConfig:
    train_files: list[str] = _help(
        "Training JSONL/parquet files or folders in the published ReasonEmbed format (TrainingSample).",
        default_factory=list)
    group_size: int = _help("Passages per query: 1 positive + group_size-1 hard negatives (16).", default=16)
    use_data_sizes: bool = _help(
        "Take per-domain group and batch sizes from the samples' `train_group_size`/`batch_size` fields.",
        default=True)
    dev_dataset: str | None = _help(
        "Optional BRIGHT-layout folder (documents.jsonl + examples.jsonl) scored with nDCG@10 during training.",
        default=None)
    dev_every_steps: int = _help("Evaluate on dev_dataset every N optimizer steps (0 = only at the end).", default=0)
    dev_instruction: str | None = _help("Task instruction for the dev queries (null = the model's).", default=None)


@dataclass
class LossConfig:
    name: Literal["ri_infonce", "infonce"] = _help(
        "ri_infonce = Redapter's reasoning-intensity weighting; infonce = the basic baseline.", default="ri_infonce")
    temperature: float = _help("InfoNCE temperature tau (0.02).", default=0.02)
    kappa: float = _help("Cap of the reasoning intensity RI = min(L/L', kappa) (5).", default=5.0)
    ri_warmup_steps: int = _help("Optimizer steps of plain InfoNCE before RI weighting (qri_start_step 100).",
                                 default=100)
    cross_device: bool = _help("Use every device's passages as negatives (gathered global batch).", default=True)
    missing_reasoning_query: Literal["error", "use_query"] = _help(
        "ri_infonce on a sample without `reasoning_query` (q'): error = refuse, naming file and line; "
        "use_query = use the query itself as q' (that sample's RI is then L/L = 1, i.e. no reasoning signal).",
        default="error")
    gradcache_mini_batch_size: int = _help(
        "GradCache: embed in mini-batches of this many texts with cached gradients (0 = off).", default=0)


@dataclass
class TrainConfig(TrainingArguments):
    """HF TrainingArguments with ReasonEmbed's published defaults (METHOD.md §4.2)."""

    output_dir: str | None = _help("Where checkpoints and the final model go.", default="runs/redapter")
    learning_rate: float = _help("Peak learning rate (1e-4).", default=1e-4)
    warmup_steps: float = _help("LR warm-up: steps, or a ratio of all steps when < 1 (0.1).", default=0.1)
    num_train_epochs: float = _help("Epochs over the training data (1).", default=1.0)
    per_device_train_batch_size: int = _help(
        "Queries per device per step, for domains whose data give no `batch_size` (8).", default=8)
    logging_steps: float = _help("Log every N optimizer steps (1: the loss parts and RI stats every step).",
                                 default=1)
    remove_unused_columns: bool = _help("Must stay false: batches are nested feature dicts.", default=False)
    report_to: None | str | list[str] = _help("Experiment trackers (none, tensorboard, wandb, ...).", default="none")
    save_steps: float = _help("Checkpoint every N optimizer steps.", default=500)
    dataloader_drop_last: bool = _help("Unused: the sampler always drops incomplete global batches.", default=True)
    if "activation_checkpointing" not in {f.name for f in dataclasses.fields(TrainingArguments)}:
        # transformers < 5.23 calls it gradient_checkpointing; the recipes use the new name on every version
        # (the trainer enables checkpointing on the backbone itself, so HF never needs to read it).
        activation_checkpointing: bool = _help("Activation (gradient) checkpointing of the backbone.", default=False)

    def __post_init__(self) -> None:
        # `train.deepspeed=ds_zero1.json` names the bundled ZeRO-1 config (recipes/) unless such a file exists here
        if isinstance(self.deepspeed, str) and not Path(self.deepspeed).exists() and (RECIPES / self.deepspeed).is_file():
            self.deepspeed = str(RECIPES / self.deepspeed)
        if self.deepspeed and importlib.util.find_spec("deepspeed") is None:
            raise ConfigError("train.deepspeed: the deepspeed package is not installed here (pip install deepspeed), "
                              "or drop train.deepspeed to train with DDP")
        super().__post_init__()


@dataclass
class RedapterConfig:
    model: ModelConfig = _help("Backbone, pooling, LoRA and precision.", default_factory=ModelConfig)
    data: DataConfig = _help("Training files, grouping and the optional dev set.", default_factory=DataConfig)
    loss: LossConfig = _help("InfoNCE / RI-InfoNCE hyperparameters.", default_factory=LossConfig)
    train: TrainConfig = _help("HF Trainer arguments (optimizer, schedule, checkpoints, DDP/FSDP/DeepSpeed).",
                               default_factory=TrainConfig)


def load_train_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RedapterConfig:
    """YAML recipe + `section.key=value` overrides -> a checked `RedapterConfig`."""
    return check_train_config(load_config(RedapterConfig, path, overrides))


def check_train_config(cfg: RedapterConfig) -> RedapterConfig:
    """The checks every `RedapterConfig` passes before training, whether loaded from YAML or built in code."""
    if not cfg.data.train_files:
        raise ConfigError("data.train_files: give at least one training file or folder")
    if cfg.data.group_size < 1:
        raise ConfigError(f"data.group_size must be >= 1, got {cfg.data.group_size}")
    if cfg.loss.name == "ri_infonce" and cfg.loss.ri_warmup_steps < 0:
        raise ConfigError("loss.ri_warmup_steps must be >= 0")
    check_trackers(cfg.train.report_to)
    return cfg


def check_trackers(report_to: list[str] | str | None) -> None:
    """Every tracker in `train.report_to` must be one HF knows and installed here (the Trainer would crash late)."""
    from transformers.integrations import get_available_reporting_integrations
    from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK

    names = [report_to] if isinstance(report_to, str) else list(report_to or [])
    available = get_available_reporting_integrations()
    for name in names:
        if name in ("none", "all"):
            continue
        if name not in INTEGRATION_TO_CALLBACK:
            raise ConfigError(f"train.report_to: unknown tracker {name!r}; use none, all or one of "
                              f"{sorted(INTEGRATION_TO_CALLBACK)}")
        if name not in available:
            raise ConfigError(f"train.report_to: the {name!r} tracker is not installed in this environment "
                              f"(installed: {available or 'none'}); install it or set train.report_to=none")


def resolve_precision(cfg: RedapterConfig) -> RedapterConfig:
    """Turn `model.precision` into the Trainer's bf16 flag."""
    import torch

    want = cfg.model.precision
    if want == "auto":
        want = "bf16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "fp32"
    if (want == "bf16") != cfg.train.bf16:
        cfg.train = dataclasses.replace(cfg.train, bf16=want == "bf16")
    return cfg


def resolved_dict(cfg: RedapterConfig) -> dict[str, Any]:
    """The resolved config as plain data (TrainingArguments through its own `to_dict`)."""
    out = {k: config_to_dict(getattr(cfg, k)) for k in ("model", "data", "loss")}
    out["train"] = cfg.train.to_dict()
    return out
