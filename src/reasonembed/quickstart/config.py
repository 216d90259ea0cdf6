"""`QuickstartConfig`: every size the quickstart uses, typed, with defaults that fit 15 CPU minutes.

Why these defaults: on 2 CPU cores the bundled SmolLM2-135M answers a batch of 8 judge prompts
in about 18 s (96 new tokens each), so LLM calls dominate. 16 source documents x 6 candidates =
96 judge calls (~4 min), plus generation, q' and 24 audit calls, keep the LLM stages near 7
minutes; training MiniLM on a few dozen short samples takes well under a minute; evaluating four
dense models on EntailmentBank's 11,518 facts is most of the rest. Every field can be changed
(`--set synth.docs=40`, or a YAML file) for a bigger run on a GPU or a hosted LLM.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasonembed.llm.config import LLMConfig


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
    threshold: int = field(default=3, metadata={"help": "Judge score at or above which a pair counts as relevant (ReMixer's positive threshold)."})


@dataclass
class TrainSizes:
    epochs: int = field(default=2, metadata={"help": "Epochs over the training samples."})
    batch_size: int = field(default=8, metadata={"help": "Queries per batch."})
    group_size: int = field(default=4, metadata={"help": "Passages per query: 1 positive + group_size-1 hard negatives."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate."})
    temperature: float = field(default=0.05, metadata={"help": "InfoNCE temperature. 0.05 = MiniLM's own pre-training scale (20); the paper's 0.02 is for Qwen3/Llama with LoRA."})
    ri_warmup_steps: int = field(default=2, metadata={"help": "Plain-InfoNCE steps before RI weighting (paper: 100; tiny runs need fewer)."})
    kappa: float = field(default=5.0, metadata={"help": "RI cap (paper: 5)."})
    min_samples: int = field(default=4, metadata={"help": "Fewer assembled samples than this: skip the ReMixer-trained model and say so."})
    gold_max_queries: int | None = field(default=None, metadata={"help": "Gold-pair baseline: use only the first N train-part queries (None = all)."})
    gold_negatives: int = field(default=3, metadata={"help": "Gold-pair baseline: BM25-similar non-gold hard negatives per query."})
    max_length: int = field(default=256, metadata={"help": "Max tokens for queries and passages in training."})


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
    train: TrainSizes = field(default_factory=TrainSizes)
    eval: EvalSizes = field(default_factory=EvalSizes)
    threads: int | None = field(default=None, metadata={"help": "torch CPU threads (None = torch's default, one per core); 1 on a busy shared machine avoids oversubscription."})
    index: bool = field(default=True, metadata={"help": "Build a search index of the full bundled corpus with the trained model (for `reasonembed serve`)."})
