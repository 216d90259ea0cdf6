"""The one validated reader of document collections (JSONL or parquet).

Why one: the evaluation loaders, the index builder and ReMixer all read "documents with an id and
a text", and a corpus that one of them accepts and another rejects gives numbers nobody can
compare. Every rule lives here:

* a record needs an id (`id`, or the field named by `id_field`; integers are turned into strings)
  and a text: the first of `text_fields` present (BRIGHT writes `content`, our contract `text`);
  several fields (BEIR's `title` + `text`) are joined by a space when `join` is true;
* ids are unique: a duplicate names the line of the first occurrence. With `repeats="skip"` (ReMixer,
  whose corpora are often concatenations) the same record repeated with the same text is read once
  and its line reported in `skipped`; a repeated id with another text is still an error;
* with `require_text=True` (the index) an empty or blank text is an error;
* every error is a `RecordError` naming the file, the 1-based line and the field.

    ids, texts = read_corpus("documents.jsonl")                 # {"id", "text"|"content"}
    ids, texts = read_corpus("corpus.jsonl", id_field="_id", text_fields=("title", "text"), join=True)
    for line, doc_id, text, record in iter_corpus("corpus.jsonl"):   # other fields (domain, ...) too
        ...
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from reasonembed.errors import RecordError
from reasonembed.io import iter_table

Rows = Iterable[tuple[int, dict[str, Any]]]
TEXT_FIELDS: tuple[str, ...] = ("text", "content")


def record_id(value: Any, path: str | Path, line: int | None, field: str) -> str:
    """A non-empty string id (ints accepted), else a RecordError naming path, line and field."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(path, line, field, f"missing or empty id ({value!r})")
    return value


def validate_documents(
    rows: Rows,
    path: str | Path,
    id_field: str = "id",
    text_fields: Sequence[str] = TEXT_FIELDS,
    join: bool = False,
    *,
    repeats: Literal["error", "skip"] = "error",
    skipped: list[int] | None = None,
    require_text: bool = False,
) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    """(line, id, text, record) for each valid row; see the module docstring for the rules.

    With `join=False` the text is the first of `text_fields` the record has; with `join=True` it
    is every non-empty one of them joined by a space (BEIR's title + text). An empty input is an
    error ("the corpus is empty").
    """
    first: dict[str, tuple[int, bytes]] = {}  # id -> (line, digest of its text)
    seen_field: str | None = None
    for line, rec in rows:
        doc_id = record_id(rec.get(id_field), path, line, id_field)
        present = [f for f in text_fields if f in rec and rec[f] is not None]
        if not present:  # name the field the file's other records use (else the first one looked for)
            where = seen_field or text_fields[0]
            raise RecordError(path, line, where, f"missing document text ({'/'.join(text_fields)}) for {doc_id!r}")
        chosen = present if join else present[:1]
        seen_field = seen_field or chosen[0]
        bad = [f for f in chosen if not isinstance(rec[f], str)]
        if bad:
            raise RecordError(path, line, bad[0], "document text must be a string")
        text = " ".join(rec[f] for f in chosen if rec[f])
        if require_text and not text.strip():
            raise RecordError(path, line, chosen[0], f"document {doc_id!r} has empty text")
        digest = hashlib.md5(text.encode("utf-8")).digest()
        if doc_id in first:
            first_line, first_digest = first[doc_id]
            if repeats == "skip" and digest == first_digest:
                if skipped is not None:
                    skipped.append(line)
                continue
            other = "" if digest == first_digest else " with a different text"
            raise RecordError(path, line, id_field,
                              f"duplicate document id {doc_id!r} (first at line {first_line}){other}; ids must be unique")
        first[doc_id] = (line, digest)
        yield line, doc_id, text, rec
    if not first:
        raise RecordError(path, None, None, "the corpus is empty")


def build_corpus(
    rows: Rows,
    path: str | Path,
    id_field: str = "id",
    text_fields: Sequence[str] = TEXT_FIELDS,
    join: bool = False,
) -> tuple[list[str], list[str]]:
    """(ids, texts) from `(line, record)` rows, validated by `validate_documents`."""
    ids: list[str] = []
    texts: list[str] = []
    for _, doc_id, text, _ in validate_documents(rows, path, id_field, text_fields, join):
        ids.append(doc_id)
        texts.append(text)
    return ids, texts


def iter_corpus(
    path: str | Path,
    id_field: str = "id",
    text_fields: Sequence[str] = TEXT_FIELDS,
    join: bool = False,
    **rules: Any,
) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
    """(line, id, text, record) of a JSONL or parquet file, for callers that need other fields;
    `rules` are `validate_documents`' keyword options (repeats, skipped, require_text)."""
    return validate_documents(iter_table(path), path, id_field, text_fields, join, **rules)


def read_corpus(
    path: str | Path,
    id_field: str = "id",
    text_fields: Sequence[str] = TEXT_FIELDS,
    join: bool = False,
) -> tuple[list[str], list[str]]:
    """(ids, texts) of a JSONL or parquet file, validated as `build_corpus` does."""
    return build_corpus(iter_table(path), path, id_field, text_fields, join)
