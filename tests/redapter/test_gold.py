"""Gold-label training samples: gold documents as positives, BM25-nearest non-gold documents as hard negatives."""

from __future__ import annotations

import pytest

from reasonembed.errors import RecordError
from reasonembed.redapter.gold import gold_samples

DOCS = [
    '{"id": "a", "content": "integral of x squared from zero to one"}',
    '{"id": "b", "content": "integral of sine from zero to pi"}',
    '{"id": "c", "content": "integral of x squared from one to two, a different theorem"}',
    '{"id": "d", "content": "eigenvalues of a two by two matrix"}',
]


def test_gold_samples_use_gold_positives_and_non_gold_bm25_negatives(tmp_path):
    (tmp_path / "documents.jsonl").write_text("\n".join(DOCS) + "\n")
    (tmp_path / "examples.jsonl").write_text(
        '{"id": "a", "query": "integral of x squared from zero to one", "gold_ids": ["b"], "excluded_ids": ["a"], "theorem": "t"}\n')
    (sample,) = gold_samples(tmp_path, "Given a Math problem, retrieve.", negatives=2)
    assert sample["pos_ids"] == ["b"] and sample["pos"] == ["integral of sine from zero to pi"]
    assert sample["neg_ids"][0] == "c" and "a" not in sample["neg_ids"] and "b" not in sample["neg_ids"]
    assert sample["prompt"].startswith("Given a Math problem") and sample["reasoning_query"] is None


def test_gold_samples_name_the_file_line_and_field_of_a_bad_gold_id(tmp_path):
    (tmp_path / "documents.jsonl").write_text("\n".join(DOCS) + "\n")
    (tmp_path / "examples.jsonl").write_text(
        '{"id": "q1", "query": "area of a circle", "gold_ids": ["b"]}\n'
        '{"id": "q2", "query": "eigenvalues", "gold_ids": ["zz"]}\n')
    with pytest.raises(RecordError, match=r"examples.jsonl.*line 2.*gold_ids"):
        gold_samples(tmp_path, "Retrieve.")
