"""The record contracts of DESIGN.md, validated at every stage boundary.

Each contract is a pydantic model. `load_records(path, Model)` reads a JSONL/parquet file and
raises `RecordError` naming the file, line and field of the first bad record.

Contracts
---------
Document        {"id", "text", "domain"?}   (BRIGHT's `content` is accepted for `text`)
Query           {"id", "source_id", "domain", "instruction", "query", "conditions", "provenance"}
Candidates      {"query_id", "candidates": [{"doc_id", "score"}], "provenance"}
Judgement       {"query_id", "doc_id", "score": 1..5 | null, "rationale", "provenance"}
TrainingSample  {"prompt", "query", "reasoning_query", "pos", "neg", "pos_ids", "neg_ids", "domain"}
                (field-compatible with the published ReasonEmbed data)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from reasonembed.errors import RecordError
from reasonembed.io import iter_table


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=False)


def _nonempty(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{field}' must be a non-empty string")
    return value


class Document(_Record):
    id: str
    text: str
    domain: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _accept_content(cls, data: Any) -> Any:
        if isinstance(data, dict) and "text" not in data and "content" in data:
            data = {**data, "text": data["content"]}
        return data

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class Query(_Record):
    id: str
    source_id: str
    domain: str
    instruction: str
    query: str
    conditions: dict[str, Any] = Field(default_factory=dict)
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("query")
    @classmethod
    def _query_nonempty(cls, value: str) -> str:
        return _nonempty(value, "query")


class Candidate(_Record):
    doc_id: str
    score: float


class Candidates(_Record):
    query_id: str
    candidates: list[Candidate]
    provenance: dict[str, Any] = Field(default_factory=dict)


class Judgement(_Record):
    query_id: str
    doc_id: str
    score: int | None = Field(default=None, ge=1, le=5)
    rationale: str = ""
    provenance: dict[str, Any] = Field(default_factory=dict)


class TrainingSample(_Record):
    prompt: str = ""
    query: str
    reasoning_query: str | None = None
    pos: list[str]
    neg: list[str] = Field(default_factory=list)
    pos_ids: list[str] | None = None
    neg_ids: list[str] | None = None
    domain: str | None = None

    @field_validator("query")
    @classmethod
    def _query_nonempty(cls, value: str) -> str:
        return _nonempty(value, "query")

    @field_validator("pos")
    @classmethod
    def _has_positive(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("'pos' must hold at least one positive passage")
        return value


M = TypeVar("M", bound=BaseModel)


def validate_record(
    record: dict[str, Any], model: type[M], path: str | Path | None = None, line: int | None = None
) -> M:
    """Validate one dict against a contract; raise RecordError naming file, line and field."""
    try:
        return model.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or None
        message = first.get("msg", "invalid value")
        raise RecordError(path, line, field, f"{message} (contract {model.__name__})") from None


def iter_records(path: str | Path, model: type[M]) -> Iterator[M]:
    for line, record in iter_table(path):
        yield validate_record(record, model, path, line)


def load_records(path: str | Path, model: type[M]) -> list[M]:
    return list(iter_records(path, model))
