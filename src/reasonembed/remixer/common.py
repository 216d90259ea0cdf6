"""Helpers every ReMixer stage shares: run-dir layout, stable ids and seeds, domains, documents.

Stable ids make resume work: a record's id is a hash of what determines it (source id, prompt
version, seed, ...), so a re-run recognises what is already written and a resumed run writes the
same ids. Per-record randomness (length/education buckets, LLM seeds) is drawn from a
`random.Random` seeded by that id, never from global state, so it does not depend on which records
were processed before a crash.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError, ReasonEmbedError
from reasonembed.records import Document, validate_record
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.prompts import BRIGHT_DOMAINS, DomainSpec


class EmptyOutputError(ReasonEmbedError):
    """A stage had input but produced nothing usable (an empty corpus, no training sample)."""


class _RunFile:
    """A `RunPaths` attribute: a fixed path under the run directory."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, paths: RunPaths | None, owner: type | None = None) -> Any:
        return self if paths is None else paths.root.joinpath(*self.parts)


@dataclass(frozen=True)
class RunPaths:
    """Where each stage reads and writes inside `run_dir` (each attribute a Path)."""

    root: Path

    corpus = _RunFile("clean", "corpus.jsonl")
    clean_report = _RunFile("clean", "report.json")
    domain_filter = _RunFile("clean", "domain_filter.jsonl")
    queries = _RunFile("generate", "queries.jsonl")
    rejected = _RunFile("generate", "rejected.jsonl")
    candidates = _RunFile("mine", "candidates.jsonl")
    judgements = _RunFile("judge", "judgements.jsonl")
    reasoning = _RunFile("reason", "reasoning.jsonl")
    train = _RunFile("assemble", "train.jsonl")
    accounting = _RunFile("llm_accounting.jsonl")
    timings = _RunFile("timings.jsonl")

    @classmethod
    def of(cls, config: SynthConfig) -> RunPaths:
        return cls(Path(config.run_dir))


@dataclass
class StageResult:
    """What a stage did: its output file and counts (`written` = new records this run)."""

    stage: str
    output: Path
    counts: dict[str, Any] = field(default_factory=dict)
    wall_s: float = 0.0

    def log_line(self) -> dict[str, Any]:
        return {"stage": self.stage, "output": str(self.output), "wall_s": round(self.wall_s, 3), "time": time.time(), **self.counts}


def stable_id(*parts: Any, length: int = 16) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:length]


def seed_of(*parts: Any) -> int:
    """A 31-bit seed derived from parts (stable across processes, unlike `hash`)."""
    return int(hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:8], 16) & 0x7FFFFFFF


def weighted_choice(rng: random.Random, weights: dict[str, int]) -> str:
    """Draw from `weights` as the released code does from a list with repeated entries."""
    if not weights:
        raise ConfigError("an empty list of weighted choices (length_buckets / education_levels)")
    options = sorted(weights)  # fixed order: YAML key order must not change the draw
    return rng.choices(options, weights=[weights[o] for o in options], k=1)[0]


def domain_specs(config: SynthConfig) -> dict[str, DomainSpec]:
    specs = dict(BRIGHT_DOMAINS)
    for spec in config.custom_domains:
        specs[spec.name] = spec
    return specs


def domain_spec(config: SynthConfig, name: str, specs: dict[str, DomainSpec] | None = None) -> DomainSpec:
    specs = specs or domain_specs(config)
    if name not in specs:
        raise ConfigError(f"unknown domain {name!r}: add it under custom_domains (known: {sorted(specs)})")
    return specs[name]


def iter_documents(path: str | Path, default_domain: str, duplicates: list[int] | None = None) -> Iterator[tuple[int, Document]]:
    """Documents of a JSONL/parquet file, read by the one corpus reader (`reasonembed.corpus`);
    missing `domain` gets `default_domain`.

    Ids must be unique: a repeated id with different text is an error naming both lines; a repeated
    id with identical text (the same record twice) is skipped, and its line appended to `duplicates`.
    """
    from reasonembed.corpus import iter_corpus

    for line, doc_id, text, record in iter_corpus(path, repeats="skip", skipped=duplicates):
        fields = {"id": doc_id, "text": text, "domain": record.get("domain") or default_domain}
        yield line, validate_record(fields, Document, path, line)


def load_documents(path: str | Path, default_domain: str) -> dict[str, Document]:
    return {doc.id: doc for _, doc in iter_documents(path, default_domain)}


def pool_documents(config: SynthConfig, corpus: str | Path | None = None) -> dict[str, Document]:
    """The documents candidates are mined from (and judged and assembled with), METHOD §2.2.

    `mine.pool: corpus` (default, as the paper): the WHOLE input corpus — documents that clean dropped
    for length, duplication or domain stay candidates — minus those dropped by decontamination (an eval
    item must never become a positive). `mine.pool: clean`, an explicit `corpus` path, or no
    `corpus` in the config (a run dir assembled by hand): the cleaned corpus.
    """
    paths = RunPaths.of(config)
    if corpus is not None or config.mine.pool == "clean" or not config.corpus:
        return load_documents(require(Path(corpus) if corpus else paths.corpus, "clean"), config.domain)
    docs = load_documents(config.corpus, config.domain)
    if config.clean.decontaminate:
        report = require(paths.clean_report, "clean")
        import json

        dropped = json.loads(report.read_text(encoding="utf-8")).get("dropped_ids", {}).get("decontamination", [])
        for doc_id in dropped:
            docs.pop(doc_id, None)
    return docs


def require(path: Path, stage: str) -> Path:
    if not path.exists():
        raise ConfigError(f"{path}: not found — run `reasonembed synth {stage}` first")
    return path
