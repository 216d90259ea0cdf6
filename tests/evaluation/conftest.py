"""Small BRIGHT-layout fixtures written on the fly (no download)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DOCS = [
    {"id": "d01", "content": "the power rule gives the derivative of a polynomial"},
    {"id": "d02", "content": "binary search halves the search interval at every step"},
    {"id": "d03", "content": "newton second law relates force mass and acceleration"},
    {"id": "d04", "content": "the pigeonhole principle bounds collisions when hashing keys"},
    {"id": "d05", "content": "photosynthesis converts light energy into chemical energy"},
    {"id": "d06", "content": "dynamic programming stores answers to overlapping subproblems"},
    {"id": "d07", "content": "the derivative of x squared is two x by the power rule"},
    {"id": "d08", "content": "force equals mass times acceleration for a constant mass"},
    {"id": "d09", "content": "chlorophyll absorbs light for photosynthesis in leaves"},
    {"id": "d10", "content": "memoization caches overlapping subproblems in dynamic programming"},
]
EXAMPLES = [
    {
        "id": "q1",
        "query": "what is the derivative of a polynomial by the power rule",
        "gold_ids": ["d01", "d07"],
        "excluded_ids": ["N/A"],
    },
    {
        "id": "q2",
        "query": "how does force relate to mass and acceleration",
        "gold_ids": ["d08"],
        "excluded_ids": ["d03"],
    },
    {
        "id": "q3",
        "query": "dynamic programming with overlapping subproblems",
        "gold_ids": ["d10", "d06"],
        "excluded_ids": [],
    },
    {
        "id": "q4",
        "query": "how do plants turn light into energy",
        "gold_ids": ["d05", "d09"],
        "excluded_ids": ["d02", "N/A"],
    },
]


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_task(
    folder: Path, docs: list[dict[str, Any]] | None = None, examples: list[dict[str, Any]] | None = None
) -> Path:
    write_jsonl(folder / "documents.jsonl", DOCS if docs is None else docs)
    write_jsonl(folder / "examples.jsonl", EXAMPLES if examples is None else examples)
    return folder


@pytest.fixture
def tiny_task(tmp_path: Path) -> Path:
    return make_task(tmp_path / "tiny")


@pytest.fixture
def task_factory():
    """`task_factory(folder, docs=None, examples=None)` writes a one-task BRIGHT folder."""
    return make_task


@pytest.fixture
def jsonl_writer():
    return write_jsonl


@pytest.fixture
def fixture_records():
    return DOCS, EXAMPLES
