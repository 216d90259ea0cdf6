"""The theorem split: disjoint, deterministic, every gold id inside its part, excluded ids filtered."""

from __future__ import annotations

import json

import pytest

from reasonembed.data import BUNDLED_DATASETS, bundled_dataset, theoremqa_q_dev
from reasonembed.errors import ConfigError, RecordError
from reasonembed.evaluation.split import assign_theorems, split_by_theorem
from reasonembed.io import read_jsonl


def test_bundled_datasets_ship_with_readme_and_licence():
    for name, info in BUNDLED_DATASETS.items():
        folder = bundled_dataset(name)
        assert (folder / "README.md").exists() and (folder / info.licence_file).exists()
    assert "MIT" in (theoremqa_q_dev() / "LICENSE").read_text()
    assert "Apache" in (bundled_dataset("entailmentbank_facts_dev") / "NOTICE").read_text()
    with pytest.raises(ConfigError, match="unknown bundled dataset"):
        bundled_dataset("nope")


def test_split_of_bundled_theoremqa(tmp_path):
    summary = split_by_theorem(theoremqa_q_dev(), tmp_path, eval_fraction=0.5, seed=13)
    train_docs = {d["id"] for d in read_jsonl(tmp_path / "train" / "documents.jsonl")}
    eval_docs = {d["id"] for d in read_jsonl(tmp_path / "eval" / "documents.jsonl")}
    assert not train_docs & eval_docs
    assert len(train_docs) + len(eval_docs) == 387
    assert not set(summary.theorems["train"]) & set(summary.theorems["eval"])
    for part, docs in (("train", train_docs), ("eval", eval_docs)):
        examples = read_jsonl(tmp_path / part / "examples.jsonl")
        assert {ex["theorem"] for ex in examples} == set(summary.theorems[part])
        for ex in examples:
            assert set(ex["gold_ids"]) <= docs and set(ex["excluded_ids"]) <= docs
    assert summary.queries["train"] + summary.queries["eval"] == 151
    assert summary.queries["eval"] >= 0.5 * 151
    assert summary.distractors["train"] > 0 and summary.distractors["eval"] > 0
    # deterministic: same seed, same files; another seed, another split
    again = split_by_theorem(theoremqa_q_dev(), tmp_path / "again", eval_fraction=0.5, seed=13)
    assert again.theorems == summary.theorems
    assert (tmp_path / "again" / "eval" / "documents.jsonl").read_bytes() == (tmp_path / "eval" / "documents.jsonl").read_bytes()
    other = split_by_theorem(theoremqa_q_dev(), tmp_path / "other", eval_fraction=0.5, seed=14)
    assert other.theorems != summary.theorems
    assert json.loads((tmp_path / "split.json").read_text())["seed"] == 13


def test_split_rejects_unlabelled_queries_and_bad_fractions(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "documents.jsonl").write_text('{"id": "a", "content": "x"}\n{"id": "b", "content": "y"}\n')
    (src / "examples.jsonl").write_text('{"id": "a", "query": "x", "gold_ids": ["b"], "excluded_ids": []}\n')
    with pytest.raises(RecordError, match="theorem"):
        split_by_theorem(src, tmp_path / "out")
    with pytest.raises(ValueError, match="eval_fraction"):
        assign_theorems({"t1": 1, "t2": 1}, 1.0, 0)
    with pytest.raises(ValueError, match="two theorems"):
        assign_theorems({"t1": 3}, 0.5, 0)
    assert sorted(assign_theorems({"t1": 1, "t2": 1}, 0.5, 0).values()) == ["eval", "train"]


def test_document_labels_name_each_questions_theorem_and_refuse_contradictions(tmp_path):
    from reasonembed.errors import RecordError
    from reasonembed.evaluation.split import document_labels

    path = tmp_path / "examples.jsonl"
    examples = [{"id": "q1", "gold_ids": ["d1", "d2"], "theorem": "Taylor"}, {"id": "q2", "gold_ids": ["d3"], "theorem": "Stokes"}]
    assert document_labels(examples, path) == {"q1": "Taylor", "d1": "Taylor", "d2": "Taylor", "q2": "Stokes", "d3": "Stokes"}
    # with the corpus ids: a query outside the corpus is skipped, a gold id outside it is an error naming the line
    assert "q2" not in document_labels(examples, path, known={"q1", "d1", "d2", "d3"})
    with pytest.raises(RecordError, match=r"examples.jsonl.*2.*gold_ids"):
        document_labels(examples, path, known={"q1", "d1", "d2", "q2"})
    with pytest.raises(RecordError, match="gold for two labels"):
        document_labels([*examples, {"id": "q3", "gold_ids": ["d1"], "theorem": "Stokes"}], path)
