"""`SynthConfig`: everything a ReMixer run needs, as typed dataclasses loadable from YAML.

    from reasonembed.config import load_config
    from reasonembed.remixer.config import SynthConfig
    cfg = load_config(SynthConfig, "configs/synth.yaml", ["mine.top_k=5", "llm.backend=openai"])

Defaults follow METHOD.md §2 (paper/released scripts); where a default differs for CPU practicality
the help text says so. Sampling defaults: generation T=1.0 top_p=0.6 (§2.1), judge T=0.7 top_p=0.95
top_k=40 (§2.3), reasoning T=0.8 top_p=0.8 (BRIGHT's reason.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from reasonembed.llm.base import SamplingParams
from reasonembed.llm.config import LLMConfig
from reasonembed.remixer.prompts import EDUCATION_LEVELS, LENGTH_BUCKETS, DomainSpec


@dataclass
class CleanConfig:
    min_chars: int = field(default=200, metadata={"help": "Drop documents shorter than this (METHOD §2.0)."})
    max_chars: int = field(default=5000, metadata={"help": "Drop documents longer than this (METHOD §2.0)."})
    near_dup_threshold: float = field(default=0.9, metadata={"help": "Shingle Jaccard at or above which a later document is a near duplicate (>1 disables)."})
    shingle_chars: int = field(default=5, metadata={"help": "Character shingle size for near-duplicate detection."})
    num_perm: int = field(default=128, metadata={"help": "MinHash permutations (LSH: num_perm / rows_per_band bands)."})
    rows_per_band: int = field(default=4, metadata={"help": "LSH rows per band (smaller = more candidate pairs checked)."})
    domain_filter: bool = field(default=False, metadata={"help": "Ask the LLM whether each document belongs to its domain; drop a parsed 'No' (METHOD §2.0)."})
    domain_filter_unparsable: Literal["keep", "drop"] = field(default="keep", metadata={"help": "What an unparsable domain-filter reply does to its document (counted either way)."})
    domain_filter_max_tokens: int = field(default=16, metadata={"help": "Token budget of a domain-filter reply (raise it for thinking models)."})
    extra_body: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra request fields for the domain filter, e.g. {chat_template_kwargs: {enable_thinking: false}}."})
    decontaminate: list[str] = field(default_factory=list, metadata={"help": "Eval sets (BRIGHT-layout dirs with examples.jsonl + documents.jsonl) to decontaminate against."})
    decontam_jaccard: float = field(default=0.8, metadata={"help": "Drop a document whose shingle Jaccard with an eval query or gold doc reaches this."})
    decontam_containment: float = field(default=0.8, metadata={"help": "Drop a document containing this fraction of an eval query's (or gold doc's) shingles."})
    decontam_match_ids: bool = field(default=False, metadata={"help": "Also drop documents whose id is a gold id (when the corpus IS the eval corpus)."})


@dataclass
class GenerateConfig:
    max_docs_per_domain: int = field(default=10000, metadata={"help": "Source documents sampled per domain (METHOD §2.0: 10,000, seed 42)."})
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(1.0, 0.6, None, 8192))
    length_buckets: dict[str, int] = field(default_factory=lambda: dict(LENGTH_BUCKETS), metadata={"help": "Length phrase -> weight."})
    education_levels: dict[str, int] = field(default_factory=lambda: dict(EDUCATION_LEVELS), metadata={"help": "Education level -> weight."})
    max_copy_jaccard: float = field(default=0.5, metadata={"help": "Reject a query whose word-trigram Jaccard with its source reaches this (a copy)."})
    min_query_chars: int = field(default=20, metadata={"help": "Reject shorter queries."})
    empty_retries: int = field(default=2, metadata={"help": "Ask again (new seed) when a reply is empty; still empty: counted, nothing written, asked again next run."})
    dedup_queries: bool = field(default=True, metadata={"help": "Reject a query whose normalised-text MD5 equals an earlier query's (METHOD §2.1)."})
    extra_body: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra request fields for this stage's LLM calls, e.g. {chat_template_kwargs: {enable_thinking: false}} (openai backend: merged into the request; local: chat_template_kwargs only)."})


@dataclass
class MineConfig:
    embedder: str | None = field(default=None, metadata={"help": "Embedder model dir or hub id (None = bundled all-MiniLM-L6-v2); paper: gte-Qwen2-7B-instruct."})
    pooling: str | None = field(default=None, metadata={"help": "Embedder pooling (None = from the model)."})
    use_instruction: bool = field(default=False, metadata={"help": "Prefix queries with the domain instruction (paper: yes, for gte-Qwen2)."})
    pool: Literal["corpus", "clean"] = field(default="corpus", metadata={"help": "Candidate pool: 'corpus' = the whole input corpus minus decontaminated documents (METHOD §2.2); 'clean' = only the cleaned corpus."})
    top_k: int = field(default=100, metadata={"help": "Candidates kept per query after removing the source (METHOD §2.2: 100)."})
    search_k: int = field(default=1000, metadata={"help": "How deep FAISS searches before filtering (METHOD §2.2: 1000)."})
    max_length: int = field(default=512, metadata={"help": "Embedder max tokens for queries and documents."})
    batch_size: int = field(default=32, metadata={"help": "Encoding batch size."})
    dtype: str = field(default="fp32", metadata={"help": "Embedder dtype: fp32 | bf16."})


@dataclass
class JudgeConfig:
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(0.7, 0.95, 40, 2048))
    max_doc_chars: int = field(default=49152, metadata={"help": "Candidates longer than this are cut (METHOD §2.3: ~0.3*4*40960)."})
    max_candidates: int | None = field(default=None, metadata={"help": "Judge only the first N candidates per query (None = all)."})
    score_followup: bool = field(default=True, metadata={"help": "When an answer has no parsable <score>, ask once more for only the score (status 'followup'); never guessed."})
    followup_max_tokens: int = field(default=16, metadata={"help": "Token budget of the score follow-up reply."})
    extra_body: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra request fields for this stage's LLM calls, e.g. {chat_template_kwargs: {enable_thinking: false}} as the paper's annotator ran (METHOD §2.3) (openai backend: merged into the request; local: chat_template_kwargs only)."})


@dataclass
class ReasonConfig:
    enabled: bool = field(default=True, metadata={"help": "Write reasoning-augmented queries q' (for Redapter)."})
    sampling: SamplingParams = field(default_factory=lambda: SamplingParams(0.8, 0.8, None, 2048))
    extra_body: dict[str, Any] = field(default_factory=dict, metadata={"help": "Extra request fields for this stage's LLM calls, e.g. {chat_template_kwargs: {enable_thinking: false}} (openai backend: merged into the request; local: chat_template_kwargs only)."})


@dataclass
class AssembleConfig:
    pos_min_score: int = field(default=3, metadata={"help": "Scores >= this are positives (METHOD §2.4)."})
    neg_max_score: int = field(default=2, metadata={"help": "Scores <= this are hard negatives (METHOD §2.4)."})
    min_pos: int = field(default=1, metadata={"help": "Drop queries with fewer positives."})
    min_neg: int = field(default=1, metadata={"help": "Drop queries with fewer hard negatives."})
    max_pos: int | None = field(default=None, metadata={"help": "Keep at most this many positives (best first)."})
    max_neg: int | None = field(default=None, metadata={"help": "Keep at most this many negatives (hardest first by retriever score)."})
    require_reasoning_query: bool = field(default=False, metadata={"help": "Drop queries without a q' from the reason stage."})


@dataclass
class SynthConfig:
    corpus: str = field(default="", metadata={"help": "Input documents (JSONL/parquet: id, text|content, domain?)."})
    run_dir: str = field(default="runs/synth", metadata={"help": "Folder for every stage's output."})
    domain: str = field(default="theoremqa_questions", metadata={"help": "Domain of documents without a 'domain' field."})
    custom_domains: list[DomainSpec] = field(default_factory=list, metadata={"help": "User-defined domains (override built-ins of the same name)."})
    seed: int = field(default=42, metadata={"help": "Master seed (sampling of sources, conditions, LLM seeds)."})
    llm: LLMConfig = field(default_factory=LLMConfig)
    judge_llm: LLMConfig | None = field(default=None, metadata={"help": "A different LLM for judging (paper: a distilled Qwen3-8B annotator); None = llm."})
    clean: CleanConfig = field(default_factory=CleanConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    mine: MineConfig = field(default_factory=MineConfig)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    reason: ReasonConfig = field(default_factory=ReasonConfig)
    assemble: AssembleConfig = field(default_factory=AssembleConfig)
