from __future__ import annotations

import json
import random
from collections import Counter

import pytest
import torch
from redapter_helpers import tiny_overrides, write_samples

from reasonembed.errors import ConfigError, RecordError
from reasonembed.records import TrainingSample
from reasonembed.redapter.config import load_train_config
from reasonembed.redapter.data import (
    DomainBatchSampler,
    DomainSizes,
    GroupedBatchDataset,
    check_negatives,
    domain_sizes,
    load_samples,
    sample_group,
)
from reasonembed.redapter.trainer import build_trainer


def _sample(n_pos: int, n_neg: int) -> TrainingSample:
    return TrainingSample(query="q", pos=[f"p{i}" for i in range(n_pos)], neg=[f"n{i}" for i in range(n_neg)])


def test_group_is_one_positive_and_distinct_negatives():
    s = _sample(3, 20)
    seen_pos = Counter()
    for seed in range(200):
        group = sample_group(s, 16, random.Random(seed))
        assert len(group) == 16 and group[0] in s.pos
        assert len(set(group[1:])) == 15 and all(g in s.neg for g in group[1:])
        seen_pos[group[0]] += 1
    assert set(seen_pos) == set(s.pos)  # the positive is drawn at random


def test_too_few_negatives_repeat():
    group = sample_group(_sample(1, 3), 16, random.Random(0))
    assert len(group) == 16 and set(group[1:]) <= {"n0", "n1", "n2"}


def test_no_negatives_is_an_error_unless_group_is_one():
    assert sample_group(_sample(2, 0), 1, random.Random(0)) in (["p0"], ["p1"])
    with pytest.raises(ValueError, match="no hard negatives"):
        sample_group(_sample(2, 0), 4, random.Random(0))


def test_missing_negatives_name_file_line_field(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"query": "a", "pos": ["x"], "neg": ["y"], "domain": "d"}\n{"query": "b", "pos": ["x"], "domain": "d"}\n')
    samples = load_samples([path])
    check_negatives(samples, {"d": DomainSizes(1, 2)})  # groups of 1 need no negatives
    with pytest.raises(RecordError) as err:
        check_negatives(samples, {"d": DomainSizes(4, 2)})
    assert "t.jsonl" in str(err.value) and "2" in str(err.value) and "neg" in str(err.value)


def test_bad_record_names_file_line_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "a", "pos": ["x"]}\n{"query": "b", "pos": []}\n')
    with pytest.raises(RecordError) as err:
        load_samples([path])
    assert "bad.jsonl" in str(err.value) and "2" in str(err.value) and "pos" in str(err.value)


def test_domain_from_file_stem_and_sizes_from_data(tmp_path):
    path = write_samples(tmp_path / "leetcode-formatted.jsonl", 4, ("x",))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "domain"}) + "\n" for r in rows))
    samples = load_samples([tmp_path])
    assert {s.domain for s in samples} == {"leetcode"}
    mixed = write_samples(tmp_path / "m.jsonl", 4, ("a", "b"), extra={"a": {"train_group_size": 2, "batch_size": 3}})
    sizes = domain_sizes(load_samples([mixed]), group_size=16, batch_size=8)
    assert sizes == {"a": DomainSizes(2, 3), "b": DomainSizes(16, 8)}
    assert domain_sizes(load_samples([mixed]), 16, 8, use_data_sizes=False)["a"] == DomainSizes(16, 8)


def test_sampler_one_domain_per_global_batch_across_ranks(tmp_path):
    samples = load_samples([write_samples(tmp_path / "t.jsonl", 10, ("a", "b", "c"))])
    domains = [s.domain for s in samples]
    sizes = {"a": DomainSizes(3, 2), "b": DomainSizes(3, 1), "c": DomainSizes(3, 4)}
    sampler = DomainBatchSampler(domains, sizes, world_size=2, seed=1)
    keys = list(sampler)
    assert len(keys) == len(sampler) == 2 * (10 // 4 + 10 // 2 + 10 // 8)
    for r0, r1 in zip(keys[0::2], keys[1::2]):  # shard r of each global batch goes to rank r
        batch = r0[1] + r1[1]
        assert len({domains[i] for i in batch}) == 1
        assert len(r0[1]) == len(r1[1]) == sizes[domains[batch[0]]].batch_size
        assert len(set(batch)) == len(batch)
    sampler.set_epoch(1)
    assert [k[1] for k in sampler] != [k[1] for k in keys]  # reshuffled per epoch
    sampler.set_epoch(0)
    assert list(sampler) == keys  # deterministic given (seed, epoch)


def test_sampler_refuses_a_domain_smaller_than_one_batch(tmp_path):
    # would otherwise train zero steps silently: its only batch is incomplete and dropped
    with pytest.raises(ConfigError, match=r"domain 'a': 3 training samples.*global batch of 4.*at most 3"):
        DomainBatchSampler(["a"] * 3, {"a": DomainSizes(2, 4)})
    # one small domain among big ones is refused too (before, it was skipped with only a log line)
    sizes = {"big": DomainSizes(2, 2), "small": DomainSizes(2, 2)}
    with pytest.raises(ConfigError, match=r"domain 'small': 3 training samples.*global batch of 4 \(batch size 2 "
                                          r"per device x 2 device"):
        DomainBatchSampler(["big"] * 20 + ["small"] * 3, sizes, world_size=2)
    with pytest.raises(ConfigError, match="Use fewer devices"):
        DomainBatchSampler(["a"], {"a": DomainSizes(2, 1)}, world_size=2)
    # through the real training entry point, before any model is loaded
    small = write_samples(tmp_path / "t.jsonl", 3, ("math",))
    cfg = load_train_config(None, tiny_overrides(str(tmp_path / "no-model-needed"), small, tmp_path / "out"))
    with pytest.raises(ConfigError, match=r"domain 'math': 3 training samples.*global batch of 4"):
        build_trainer(cfg)
    # exactly one batch is enough
    assert len(DomainBatchSampler(["a"] * 4, {"a": DomainSizes(2, 4)})) == 1


def test_dataset_groups_are_deterministic_per_epoch(tmp_path):
    samples = load_samples([write_samples(tmp_path / "t.jsonl")])
    sizes = domain_sizes(samples, 3, 4)
    ds = GroupedBatchDataset(samples, sizes, seed=3)
    a, b = ds[(0, (0, 1, 2))], ds[(0, (0, 1, 2))]
    assert a == b and all(len(item["passages"]) == 3 for item in a)
    assert any(x["passages"] != y["passages"] for x, y in zip(a, ds[(5, (0, 1, 2))]))


def test_collator_labels_and_instruction(tmp_path, minilm_path):
    from reasonembed.embedder import Embedder
    from reasonembed.redapter.data import RedapterCollator

    emb = Embedder(minilm_path, device="cpu")
    samples = load_samples([write_samples(tmp_path / "t.jsonl")])
    items = GroupedBatchDataset(samples, domain_sizes(samples, 3, 4))[(0, (0, 1))]
    batch = RedapterCollator(emb, 64, 64)([items])
    assert batch["labels"].tolist() == [0, 3]
    assert batch["features"]["passages"]["input_ids"].shape[0] == 6
    text = emb.tokenizer.decode(batch["features"]["query"]["input_ids"][0], skip_special_tokens=True)
    assert text.startswith("instruct : given a math post") and "query : question 0" in text
    assert isinstance(batch["features"]["reasoning_query"]["input_ids"], torch.Tensor)


def _without_reasoning_query(path, line: int, value) -> None:
    rows = path.read_text().splitlines()
    record = json.loads(rows[line - 1])
    record["reasoning_query"] = value
    rows[line - 1] = json.dumps(record)
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("value", [None, "", "  "])
def test_ri_infonce_without_reasoning_query_names_file_and_line(tmp_path, value):
    # q' = q would silently give that sample RI = 1 (a weight of noise, not of reasoning intensity)
    path = write_samples(tmp_path / "t.jsonl", 4, ("math",))
    _without_reasoning_query(path, 3, value)
    no_model = str(tmp_path / "no-model-needed")
    cfg = load_train_config(None, tiny_overrides(no_model, path, tmp_path / "out"))
    with pytest.raises(RecordError, match=r"t\.jsonl, line 3, field 'reasoning_query'.*loss\.missing_reasoning_query"):
        build_trainer(cfg)
    # the documented fallback, and plain InfoNCE (which never reads q'), pass the data checks (then: no model)
    for extra in ("loss.missing_reasoning_query=use_query", "loss.name=infonce"):
        cfg = load_train_config(None, tiny_overrides(no_model, path, tmp_path / "out", extra))
        with pytest.raises(ConfigError, match="model directory not found"):
            build_trainer(cfg)
    with pytest.raises(ConfigError, match="missing_reasoning_query.*'error', 'use_query'"):
        load_train_config(None, tiny_overrides(no_model, path, tmp_path / "out", "loss.missing_reasoning_query=skip"))


@pytest.mark.parametrize(("field", "value"), [("pos", []), ("pos", [""]), ("pos", ["ok", "  "]), ("neg", ["x", ""])])
def test_empty_passage_names_file_line_field(tmp_path, field, value):
    good = {"query": "a", "pos": ["x"], "neg": ["y"], "domain": "d"}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps({**good, field: value}) + "\n")
    with pytest.raises(RecordError, match=rf"t\.jsonl, line 2, field '{field}'"):
        load_samples([path])
