"""`QuickstartConfig`: every size the quickstart uses, typed, with defaults that fit 15 CPU minutes.

Why these defaults: on 2 CPU cores the bundled SmolLM2-135M answers a batch of 8 judge prompts
in about 18 s (96 new tokens each), so LLM calls dominate. 16 source documents x 6 candidates =
96 judge calls (~4 min), plus generation, q' and 24 audit calls, keep the LLM stages near 7
minutes; training MiniLM on a few dozen short samples takes well under a minute; evaluating four
dense models on EntailmentBank's 11,518 facts is most of the rest.

No second vocabulary: `synth` is ReMixer's `SynthConfig` and `redapter` is Redapter's
`RedapterConfig`, each with the quickstart's defaults (`quickstart_synth`, `quickstart_redapter`), so
`synth.mine.top_k=10` or `redapter.loss.temperature=0.02` mean exactly what they mean to
`reasonembed synth` and `reasonembed train`. What the quickstart sets itself (paths, seeds, the LLM,
each trained model's samples and loss) is listed in `SET_BY_QUICKSTART`. Only what the two have no
word for (the split, the judge audit, the gold-pair baseline, the evaluation columns) has sections here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import Any

from reasonembed.config import config_to_dict, load_config
from reasonembed.errors import ConfigError
from reasonembed.llm.base import SamplingParams
from reasonembed.llm.config import LLMConfig
from reasonembed.redapter.config import (
    DataConfig,
    LossConfig,
    ModelConfig,
    RedapterConfig,
    TrainConfig,
    resolved_dict,
)
from reasonembed.remixer.config import (
    AssembleConfig,
    CleanConfig,
    GenerateConfig,
    JudgeConfig,
    MineConfig,
    ReasonConfig,
    SynthConfig,
)


@dataclass
class SplitSizes:
    eval_fraction: float = field(default=0.5, metadata={"help": "Share of queries (whole theorems) in the eval part."})


def quickstart_synth() -> SynthConfig:
    """ReMixer's `SynthConfig` sized for 2 CPU cores and a 135M LLM (set any field as `synth.<section>.<field>=`)."""
    return SynthConfig(
        clean=CleanConfig(min_chars=30),  # TheoremQA questions are short; ReMixer's 200 would drop most
        generate=GenerateConfig(max_docs_per_domain=16, sampling=SamplingParams(1.0, 0.6, None, 128),
                                length_buckets={"less than 100 words": 2, "100 to 200 words": 1}),
        mine=MineConfig(top_k=6, search_k=100),  # paper: 100 candidates out of 1000
        judge=JudgeConfig(sampling=SamplingParams(0.7, 0.95, 40, 128)),  # paper: 2048 tokens
        reason=ReasonConfig(sampling=SamplingParams(0.8, 0.8, None, 96)),
        assemble=AssembleConfig(require_reasoning_query=True),  # RI-InfoNCE needs q' for every sample
    )


@dataclass
class AuditSizes:
    queries: int = field(default=12, metadata={"help": "Train-part queries whose known pairs the judge scores."})
    pos_per_query: int = field(default=1, metadata={"help": "Gold documents per audit query."})
    neg_per_query: int = field(default=1, metadata={"help": "Sampled non-gold documents per audit query."})


def quickstart_redapter() -> RedapterConfig:
    """The Redapter config both trained models start from (`recipes/minilm-cpu.yaml` with longer inputs); set any
    field as `redapter.<section>.<field>=`. Each model's samples, loss, instruction, folder and seed are set per run."""
    return RedapterConfig(
        model=ModelConfig(pooling="mean", max_query_length=256, max_passage_length=256, lora=False, precision="fp32"),
        data=DataConfig(group_size=4, use_data_sizes=False),  # paper: group 16
        # 0.05 = MiniLM's own pre-training scale (20); the paper's 0.02 is for Qwen3/Llama with LoRA. RI warm-up
        # (paper: 100 steps) is 2 steps here: tiny runs have few.
        loss=LossConfig(temperature=0.05, ri_warmup_steps=2),
        # a full fine-tune of a small encoder on a CPU (the paper's lr 1e-4 is for LoRA); only the final model is kept
        train=TrainConfig(num_train_epochs=2.0, per_device_train_batch_size=8, learning_rate=2e-5, save_strategy="no",
                          use_cpu=True, dataloader_pin_memory=False),
    )


# Fields the quickstart sets itself (paths, seeds, the LLM, each trained model's samples and loss): a value given
# for them would be ignored, so giving one is an error.
SET_BY_QUICKSTART = ("redapter.data.train_files", "redapter.loss.name", "redapter.model.instruction",
                     "redapter.train.output_dir", "redapter.train.seed", "synth.corpus", "synth.run_dir", "synth.domain",
                     "synth.seed", "synth.llm", "synth.clean.decontaminate")


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
    synth: SynthConfig = field(default_factory=quickstart_synth, metadata={"help": "ReMixer's own config (the LLM is `llm`)."})
    audit: AuditSizes = field(default_factory=AuditSizes)
    train: TrainPlan = field(default_factory=TrainPlan, metadata={"help": "Which models are trained (the gold-pair baseline, when to skip)."})
    redapter: RedapterConfig = field(default_factory=quickstart_redapter, metadata={"help": "How they are trained: Redapter's own config."})
    eval: EvalSizes = field(default_factory=EvalSizes)
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads (None = torch's default, one per core); 1 on a busy shared machine avoids oversubscription."})
    index: bool = field(default=True, metadata={"help": "Build a search index of the full bundled corpus with the trained model (for `reasonembed serve`)."})


def load_quickstart_config(path: str | Path | None = None, overrides: list[str] | None = None) -> QuickstartConfig:
    """YAML file + `key=value` overrides -> a `QuickstartConfig`; refuses values the quickstart would ignore."""
    cfg = load_config(QuickstartConfig, path, overrides)
    default = QuickstartConfig()
    for key in SET_BY_QUICKSTART:
        if attrgetter(key)(cfg) != attrgetter(key)(default):
            raise ConfigError(f"{key}: set by the quickstart (seeds follow the master `seed`, the LLM is `llm`, "
                              "the eval part is always decontaminated against); leave it out")
    return cfg


def quickstart_config_dict(cfg: QuickstartConfig) -> dict[str, Any]:
    """The resolved config as plain data (the Redapter part as `reasonembed train` saves it)."""
    return config_to_dict(cfg) | {"redapter": resolved_dict(cfg.redapter)}
