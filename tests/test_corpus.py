"""The one validated corpus reader: ids, text fields, duplicates, errors naming file/line/field."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reasonembed.corpus import read_corpus
from reasonembed.errors import RecordError


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_reads_text_or_content_jsonl_and_parquet(tmp_path: Path) -> None:
    records = [{"id": "a", "text": "alpha"}, {"id": 7, "content": "seven"}, {"id": "e", "content": ""}]
    assert read_corpus(_jsonl(tmp_path / "d.jsonl", records)) == (["a", "7", "e"], ["alpha", "seven", ""])
    pq.write_table(pa.Table.from_pylist([{"id": "p", "content": "parquet text"}]), tmp_path / "d.parquet")
    assert read_corpus(tmp_path / "d.parquet") == (["p"], ["parquet text"])
    beir = _jsonl(tmp_path / "c.jsonl", [{"_id": "x", "title": "T", "text": "body"}, {"_id": "y", "title": "", "text": "b"}])
    assert read_corpus(beir, "_id", ("title", "text"), join=True) == (["x", "y"], ["T body", "b"])


@pytest.mark.parametrize(
    ("records", "line", "field", "words"),
    [
        ([{"id": "a", "text": "x"}, {"text": "y"}], 2, "id", "missing or empty id"),
        ([{"id": "a", "text": "x"}, {"id": " ", "text": "y"}], 2, "id", "missing or empty id"),
        ([{"id": "a", "text": "x"}, {"id": "b", "text": "y"}, {"id": "a", "text": "z"}], 3, "id",
         "duplicate document id 'a' (first at line 1)"),
        ([{"id": "a", "title": "x"}], 1, "text", "missing document text"),
        ([{"id": "a", "content": "x"}, {"id": "b", "title": "y"}], 2, "content", "missing document text"),
        ([{"id": "a", "text": ["x"]}], 1, "text", "must be a string"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, records, line, field, words) -> None:
    path = _jsonl(tmp_path / "docs.jsonl", records)
    with pytest.raises(RecordError) as info:
        read_corpus(path)
    err = info.value
    assert (err.line, err.field) == (line, field) and words in str(err) and "docs.jsonl" in str(err)


def test_repeated_records_and_empty_texts_follow_the_callers_rule(tmp_path: Path) -> None:
    from reasonembed.corpus import iter_corpus

    path = _jsonl(tmp_path / "docs.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": " "}, {"id": "a", "text": "x"}])
    with pytest.raises(RecordError, match=r"line 3, field 'id': duplicate document id 'a' \(first at line 1\)"):
        read_corpus(path)
    skipped: list[int] = []
    assert [d for _, d, _, _ in iter_corpus(path, repeats="skip", skipped=skipped)] == ["a", "b"] and skipped == [3]
    with pytest.raises(RecordError, match=r"line 2, field 'text': document 'b' has empty text"):
        list(iter_corpus(path, require_text=True))
    other = _jsonl(tmp_path / "other.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(RecordError, match=r"first at line 1\) with a different text"):
        list(iter_corpus(other, repeats="skip"))


def test_empty_corpus_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "docs.jsonl").write_text("")
    with pytest.raises(RecordError, match="the corpus is empty"):
        read_corpus(tmp_path / "docs.jsonl")


def test_iter_corpus_keeps_the_other_fields(tmp_path: Path) -> None:
    from reasonembed.corpus import iter_corpus

    path = _jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "x", "domain": "biology"}, {"id": "b", "content": "y"}])
    rows = [(line, doc_id, text, rec.get("domain")) for line, doc_id, text, rec in iter_corpus(path)]
    assert rows == [(1, "a", "x", "biology"), (2, "b", "y", None)]
    _jsonl(path, [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}])
    with pytest.raises(RecordError, match="line 2, field 'id'"):
        list(iter_corpus(path))
