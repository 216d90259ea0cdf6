"""Training data for Redapter: published-format samples, one-domain batches, sampled groups.

* Samples are `records.TrainingSample` rows (`prompt, query, reasoning_query, pos, neg, ...`, the layout
  of the released ReasonEmbed data), read from JSONL/parquet files or folders of them. A sample without
  `domain` takes its file's stem as domain.
* Every global batch (all devices together) holds queries of one domain only (ReasonEmbed's
  `same_dataset_within_batch`); the per-domain group size and per-device batch size come from the
  data's `train_group_size` / `batch_size` fields when present (e.g. leetcode 64 x 2, pony 2 x 64).
* Each query contributes 1 positive drawn at random from `pos` and `group_size - 1` hard negatives drawn
  without replacement from `neg` (with replacement only when there are too few), re-drawn every epoch.

Determinism (exact resume): the sampler yields `(epoch, sample indices)` keys whose order depends only
on (seed, epoch), and each group is drawn from an RNG seeded by (seed, epoch, sample index). Resuming
from a checkpoint therefore sees the same batches and groups as the uninterrupted run, however many
batches the trainer skips.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset, Sampler

from reasonembed.errors import ConfigError, RecordError
from reasonembed.io import iter_table
from reasonembed.records import TrainingSample, validate_record

TABLE_SUFFIXES = (".jsonl", ".json", ".parquet")


@dataclass(frozen=True)
class DomainSizes:
    group_size: int
    batch_size: int


def _files(paths: Sequence[str | Path]) -> list[Path]:
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in TABLE_SUFFIXES)
            if not found:
                raise ConfigError(f"{path}: no .jsonl/.parquet training files in this folder")
            out.extend(found)
        elif path.exists():
            out.append(path)
        else:
            raise ConfigError(f"{path}: training file not found")
    return out


def load_samples(paths: Sequence[str | Path]) -> list[TrainingSample]:
    """Read and validate training samples; a bad row raises RecordError naming file, line and field."""
    samples = []
    for path in _files(paths):
        for line, record in iter_table(path):
            sample = validate_record(record, TrainingSample, path, line)
            sample.source = f"{path}:{line}"
            if sample.domain is None:
                sample.domain = path.stem.replace("-formatted", "")
            for field in ("pos", "neg"):
                empty = [i for i, text in enumerate(getattr(sample, field)) if not text.strip()]
                if empty:
                    raise RecordError(path, line, field, f"passage {empty[0]} is empty")
            for field in ("train_group_size", "batch_size"):
                value = getattr(sample, field, None)
                if value is not None and (not isinstance(value, int) or value < 1):
                    raise RecordError(path, line, field, f"must be a positive integer, got {value!r}")
            samples.append(sample)
    if not samples:
        raise ConfigError(f"no training samples in {[str(p) for p in paths]}")
    return samples


def domain_sizes(
    samples: Sequence[TrainingSample], group_size: int, batch_size: int, use_data_sizes: bool = True
) -> dict[str, DomainSizes]:
    """Per-domain (group size, per-device batch size): the data's fields when present, else the defaults."""
    sizes: dict[str, DomainSizes] = {}
    for sample in samples:
        domain = str(sample.domain)
        g = getattr(sample, "train_group_size", None) if use_data_sizes else None
        b = getattr(sample, "batch_size", None) if use_data_sizes else None
        wanted = DomainSizes(int(g or group_size), int(b or batch_size))
        if domain in sizes and sizes[domain] != wanted and (g is not None or b is not None):
            raise ConfigError(f"domain {domain!r}: samples disagree on train_group_size/batch_size "
                              f"({sizes[domain]} vs {wanted})")
        sizes.setdefault(domain, wanted)
    return sizes


def _record_error(sample: TrainingSample, field: str, message: str) -> RecordError:
    """A RecordError at the file and line `load_samples` read `sample` from."""
    path, _, line = str(getattr(sample, "source", "?:")).rpartition(":")
    return RecordError(path or None, int(line) if line.isdigit() else None, field, message)


def check_negatives(samples: Sequence[TrainingSample], sizes: dict[str, DomainSizes]) -> None:
    """Every query needs at least one hard negative when its group holds more than the positive."""
    for sample in samples:
        if sizes[str(sample.domain)].group_size > 1 and not sample.neg:
            raise _record_error(sample, "neg", f"no hard negatives, but domain {sample.domain!r} uses groups of "
                                               f"{sizes[str(sample.domain)].group_size}")


def check_reasoning_queries(samples: Sequence[TrainingSample], policy: str) -> None:
    """RI-InfoNCE needs q' on every sample, unless `loss.missing_reasoning_query=use_query` says q' = q."""
    if policy == "use_query":
        return
    for sample in samples:
        if not (sample.reasoning_query or "").strip():
            raise _record_error(sample, "reasoning_query",
                                "missing or empty, and loss.name=ri_infonce needs q' for every sample; add it, "
                                "use loss.name=infonce, or set loss.missing_reasoning_query=use_query "
                                "(q' = the query: that sample gets RI = 1)")


def sample_group(sample: TrainingSample, group_size: int, rng: random.Random) -> list[str]:
    """[1 random positive] + group_size-1 negatives (without replacement unless too few)."""
    group = [rng.choice(sample.pos)]
    need = group_size - 1
    if need <= 0:
        return group
    if not sample.neg:
        raise ValueError(f"query {sample.query[:60]!r} has no hard negatives but group_size={group_size}")
    if len(sample.neg) >= need:
        group.extend(rng.sample(sample.neg, need))
    else:
        group.extend(rng.choices(sample.neg, k=need))
    return group


class DomainBatchSampler(Sampler):
    """Yields `(epoch, per-device sample indices)`: global batches of one domain, split over ranks.

    For each domain the samples are shuffled and cut into global batches of `batch_size * world_size`
    (an incomplete last batch is dropped so every rank gets the same shape; the shuffle changes every
    epoch, so over epochs every sample is used); the global batches of all domains are shuffled
    together, and each is emitted as `world_size` consecutive per-device shards. Accelerate's
    `BatchSamplerShard` (batch size 1) then hands shard r of every global batch to rank r.

    A domain with fewer samples than one global batch raises `ConfigError` naming the domain, its
    sample count and the batch size: dropping its only (short) batch would train it zero steps without
    a word. We raise rather than keep a short batch because a short batch changes the number of
    in-batch negatives (and, across ranks, cannot be split evenly), so the run would silently train
    with a different objective for that domain; the fix — a smaller batch size — is the user's call.
    """

    def __init__(self, domains: Sequence[str], sizes: dict[str, DomainSizes], world_size: int = 1, seed: int = 42):
        self.domains = list(domains)
        self.sizes = sizes
        self.world_size = int(world_size)
        self.seed = int(seed)
        self.epoch = 0
        by_domain: dict[str, list[int]] = {}
        for i, d in enumerate(self.domains):
            by_domain.setdefault(d, []).append(i)
        self.by_domain = dict(sorted(by_domain.items()))
        if not self.by_domain:
            raise ConfigError("no training samples: the sampler has nothing to batch")
        for domain, idx in self.by_domain.items():
            per_device = sizes[domain].batch_size
            if len(idx) < per_device * self.world_size:
                fits = len(idx) // self.world_size
                fix = (f"Lower the batch size to at most {fits} (train.per_device_train_batch_size, or the "
                       "data's `batch_size` field)" if fits else "Use fewer devices")
                raise ConfigError(
                    f"domain {domain!r}: {len(idx)} training samples, fewer than one global batch of "
                    f"{per_device * self.world_size} (batch size {per_device} per device x {self.world_size} "
                    f"device(s)); incomplete batches are dropped, so this domain would train zero steps. "
                    f"{fix}, or add data."
                )

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def global_batches(self, epoch: int) -> list[list[int]]:
        rng = random.Random(f"{self.seed}-{epoch}")
        batches = []
        for domain, idx in self.by_domain.items():
            per_global = self.sizes[domain].batch_size * self.world_size
            order = list(idx)
            rng.shuffle(order)
            batches.extend(order[i : i + per_global] for i in range(0, len(order) - per_global + 1, per_global))
        rng.shuffle(batches)
        return batches

    def __iter__(self) -> Iterator[tuple[int, tuple[int, ...]]]:
        for batch in self.global_batches(self.epoch):
            per_device = len(batch) // self.world_size
            for r in range(self.world_size):
                yield (self.epoch, tuple(batch[r * per_device : (r + 1) * per_device]))

    def __len__(self) -> int:
        n = 0
        for domain, idx in self.by_domain.items():
            n += len(idx) // (self.sizes[domain].batch_size * self.world_size)
        return n * self.world_size


class GroupedBatchDataset(Dataset):
    """`dataset[(epoch, indices)]` -> one per-device batch: queries, q', prompts and sampled groups."""

    def __init__(self, samples: Sequence[TrainingSample], sizes: dict[str, DomainSizes], seed: int = 42):
        self.samples = list(samples)
        self.sizes = sizes
        self.seed = int(seed)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, key: tuple[int, Sequence[int]]) -> list[dict[str, Any]]:
        epoch, indices = key
        items = []
        for i in indices:
            sample = self.samples[i]
            rng = random.Random(f"{self.seed}-{epoch}-{i}")
            items.append({
                "prompt": sample.prompt,
                "query": sample.query,
                "reasoning_query": sample.reasoning_query,
                "passages": sample_group(sample, self.sizes[str(sample.domain)].group_size, rng),
            })
        return items


class RedapterCollator:
    """Tokenizes one per-device batch for the loss: features per column plus positive indices.

    Queries and q' get the sample's `prompt` as task instruction through the embedder's template
    (`Instruct: {prompt}\\nQuery: {query}`); passages get none. A missing q' becomes q (only reached
    with `loss.missing_reasoning_query=use_query`: `check_reasoning_queries` refuses it otherwise).
    """

    def __init__(self, embedder: Any, max_query_length: int, max_passage_length: int, with_reasoning: bool = True):
        self.embedder = embedder
        self.max_query_length = max_query_length
        self.max_passage_length = max_passage_length
        self.with_reasoning = with_reasoning

    def _tokenize(self, texts: list[str], max_length: int) -> dict[str, torch.Tensor]:
        batch = self.embedder.tokenizer(texts, padding=True, truncation=True, max_length=max_length,
                                        return_tensors="pt")
        return dict(batch)

    def __call__(self, batch: list[list[dict[str, Any]]]) -> dict[str, Any]:
        (items,) = batch  # the DataLoader batch size is 1: one item is one per-device batch
        fmt = self.embedder.format_query
        group = len(items[0]["passages"])
        features = {
            "query": self._tokenize([fmt(it["query"], it["prompt"]) for it in items], self.max_query_length),
            "passages": self._tokenize([p for it in items for p in it["passages"]], self.max_passage_length),
        }
        if self.with_reasoning:
            texts = [fmt(it["reasoning_query"] or it["query"], it["prompt"]) for it in items]
            features["reasoning_query"] = self._tokenize(texts, self.max_query_length)
        return {"features": features, "labels": torch.arange(len(items)) * group}
