"""`QuickstartConfig`: every size the quickstart uses, typed, with defaults that fit 15 CPU minutes.

Why these defaults: on 2 CPU cores the bundled SmolLM2-135M answers a batch of 8 judge prompts
in about 18 s (96 new tokens each), so LLM calls dominate. 16 source documents x 6 candidates =
96 judge calls (~4 min), plus generation, q' and 24 audit calls, keep the LLM stages near 7
minutes; training MiniLM on a few dozen short samples takes well under a minute; evaluating four
dense models on EntailmentBank's 11,518 facts is most of the rest. Every field can be changed
(`--set synth.docs=40`, or a YAML file) for a bigger run on a GPU or a hosted LLM.

Training is configured with Redapter's own types: `redapter` is a `RedapterConfig` whose sections
(`QuickstartModel`, ...) are Redapter's dataclasses with the quickstart's defaults, so
`--set redapter.loss.temperature=0.02` or `--set redapter.train.gradient_accumulation_steps=2`
mean exactly what they mean to `reasonembed train`. Only what Redapter has no word for (the
gold-pair baseline, when to skip training) lives in `train`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from reasonembed.config import config_to_dict, load_config
from reasonembed.errors import ConfigError
from reasonembed.llm.config import LLMConfig
from reasonembed.redapter.config import (
    DataConfig,
    LossConfig,
    ModelConfig,
    RedapterConfig,
    TrainConfig,
    resolved_dict,
)


@dataclass
class SplitSizes:
    eval_fraction: float = field(default=0.5, metadata={"help": "Share of queries (whole theorems) in the eval part."})


@dataclass
class SynthSizes:
    docs: int = field(default=16, metadata={"help": "Train-part documents ReMixer writes a query for."})
    min_chars: int = field(default=30, metadata={"help": "Clean: shortest document kept (TheoremQA questions are short; ReMixer's default 200 would drop most)."})
    candidates: int = field(default=6, metadata={"help": "Mine: candidates per query that the judge scores (paper: 100)."})
    gen_tokens: int = field(default=128, metadata={"help": "Generate: most new tokens per query."})
    judge_tokens: int = field(default=128, metadata={"help": "Judge: most new tokens per judgement (paper: 2048)."})
    reason_tokens: int = field(default=96, metadata={"help": "Reason: most new tokens of reasoning per q'."})
    decontaminate: bool = field(default=True, metadata={"help": "Clean: drop train documents near-duplicating an eval-part query or gold document."})


@dataclass
class AuditSizes:
    queries: int = field(default=12, metadata={"help": "Train-part queries whose known pairs the judge scores."})
    pos_per_query: int = field(default=1, metadata={"help": "Gold documents per audit query."})
    neg_per_query: int = field(default=1, metadata={"help": "Sampled non-gold documents per audit query."})


@dataclass
class QuickstartModel(ModelConfig):
    """Redapter's `ModelConfig` with the quickstart's defaults (`recipes/minilm-cpu.yaml`, longer inputs)."""

    pooling: Literal["mean", "cls", "last_token"] | None = field(default="mean", metadata={"help": "MiniLM's own pooling."})
    max_query_length: int = field(default=256, metadata={"help": "Max tokens of a query and of q' in training."})
    max_passage_length: int = field(default=256, metadata={"help": "Max tokens of a passage in training."})
    lora: bool | None = field(default=False, metadata={"help": "Encoders: full fine-tune."})
    precision: Literal["auto", "bf16", "fp32"] = field(default="fp32", metadata={"help": "fp32 on CPU (bf16 autocast also works on AVX512-bf16)."})


@dataclass
class QuickstartData(DataConfig):
    """Redapter's `DataConfig`; `train_files` is set per trained model by the quickstart."""

    group_size: int = field(default=4, metadata={"help": "Passages per query: 1 positive + group_size-1 hard negatives (paper: 16)."})
    use_data_sizes: bool = field(default=False, metadata={"help": "One group and batch size for every domain."})


@dataclass
class QuickstartLoss(LossConfig):
    """Redapter's `LossConfig`; `name` is set per trained model (gold pairs: infonce, ReMixer data: ri_infonce)."""

    temperature: float = field(default=0.05, metadata={"help": "InfoNCE temperature. 0.05 = MiniLM's own pre-training scale (20); the paper's 0.02 is for Qwen3/Llama with LoRA."})
    ri_warmup_steps: int = field(default=2, metadata={"help": "Plain-InfoNCE steps before RI weighting (paper: 100; tiny runs need fewer)."})


@dataclass
class QuickstartTrain(TrainConfig):
    """Redapter's `TrainConfig` (HF TrainingArguments) on a CPU; `output_dir` and `seed` are set by the quickstart."""

    num_train_epochs: float = field(default=2.0, metadata={"help": "Epochs over the training samples."})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "Queries per batch (at most the number of samples)."})
    learning_rate: float = field(default=2e-5, metadata={"help": "Full fine-tune of a small encoder (the paper's 1e-4 is for LoRA)."})
    save_strategy: str = field(default="no", metadata={"help": "Only the final model is kept."})
    use_cpu: bool = field(default=True, metadata={"help": "Train on the CPU (the quickstart's sizes)."})
    dataloader_pin_memory: bool = field(default=False, metadata={"help": "No pinned memory without a GPU."})


@dataclass
class QuickstartRedapter(RedapterConfig):
    """The Redapter config both trained models start from: set any field as `--set redapter.<section>.<field>=...`."""

    model: QuickstartModel = field(default_factory=QuickstartModel, metadata={"help": "Backbone (the bundled MiniLM), pooling, lengths."})
    data: QuickstartData = field(default_factory=QuickstartData, metadata={"help": "Grouping of the training samples."})
    loss: QuickstartLoss = field(default_factory=QuickstartLoss, metadata={"help": "InfoNCE / RI-InfoNCE hyperparameters."})
    train: QuickstartTrain = field(default_factory=QuickstartTrain, metadata={"help": "HF Trainer arguments."})


# Fields the quickstart sets itself for each trained model: a value given for them would be ignored.
SET_PER_MODEL = {"data": ("train_files",), "loss": ("name",), "model": ("instruction",), "train": ("output_dir", "seed")}


@dataclass
class TrainPlan:
    """What Redapter has no word for: the gold-pair baseline and when to skip the ReMixer-trained model."""

    min_samples: int = field(default=4, metadata={"help": "Fewer assembled samples than this: skip the ReMixer-trained model and say so."})
    gold_max_queries: int | None = field(default=None, metadata={"help": "Gold-pair baseline: use only the first N train-part queries (None = all)."})
    gold_negatives: int = field(default=3, metadata={"help": "Gold-pair baseline: BM25-similar non-gold hard negatives per query."})


@dataclass
class EvalSizes:
    entailmentbank: bool = field(default=True, metadata={"help": "Also evaluate on the bundled EntailmentBank set (another domain)."})
    entailmentbank_queries: int | None = field(default=None, metadata={"help": "Use only the first N EntailmentBank queries (None = all 182)."})
    entailmentbank_docs: int | None = field(default=None, metadata={"help": "Use only N facts: every gold fact of the kept queries plus a seeded sample (None = all 11,518; smaller is not comparable to the reference)."})
    batch_size: int = field(default=64, metadata={"help": "Encoding batch size."})
    fusion: str = field(default="rrf", metadata={"help": "Hybrid fusion of BM25 and dense: rrf | score."})


@dataclass
class QuickstartConfig:
    out: str = field(default="quickstart-run", metadata={"help": "Output folder (re-running reuses finished stages)."})
    seed: int = field(default=13, metadata={"help": "Master seed: split, sampling, training."})
    llm: LLMConfig = field(default_factory=LLMConfig)
    split: SplitSizes = field(default_factory=SplitSizes)
    synth: SynthSizes = field(default_factory=SynthSizes)
    audit: AuditSizes = field(default_factory=AuditSizes)
    train: TrainPlan = field(default_factory=TrainPlan, metadata={"help": "Which models are trained (the gold-pair baseline, when to skip)."})
    redapter: QuickstartRedapter = field(default_factory=QuickstartRedapter, metadata={"help": "How they are trained: Redapter's own config."})
    eval: EvalSizes = field(default_factory=EvalSizes)
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads (None = torch's default, one per core); 1 on a busy shared machine avoids oversubscription."})
    index: bool = field(default=True, metadata={"help": "Build a search index of the full bundled corpus with the trained model (for `reasonembed serve`)."})


def load_quickstart_config(path: str | Path | None = None, overrides: list[str] | None = None) -> QuickstartConfig:
    """YAML file + `key=value` overrides -> a `QuickstartConfig`; refuses values the quickstart would ignore."""
    cfg = load_config(QuickstartConfig, path, overrides)
    default = QuickstartRedapter()
    for section, names in SET_PER_MODEL.items():
        for name in names:
            if getattr(getattr(cfg.redapter, section), name) != getattr(getattr(default, section), name):
                raise ConfigError(f"redapter.{section}.{name}: set by the quickstart for each trained model "
                                  "(train.seed follows the master `seed`); leave it out")
    return cfg


def quickstart_config_dict(cfg: QuickstartConfig) -> dict[str, Any]:
    """The resolved config as plain data (the Redapter part as `reasonembed train` saves it)."""
    return config_to_dict(cfg) | {"redapter": resolved_dict(cfg.redapter)}
