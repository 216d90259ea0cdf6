"""Fixtures for ReMixer tests (helpers live in synth_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "llm"))  # openai_server.py

from openai_server import scripted_openai_server  # noqa: E402,F401 - the shared fixture
from synth_helpers import brain, write_corpus  # noqa: E402


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus.jsonl")


@pytest.fixture
def llm_server(scripted_openai_server):  # noqa: F811 - the fixture imported above
    return scripted_openai_server(brain)


@pytest.fixture(scope="session")
def minilm():
    from reasonembed.embedder import Embedder

    return Embedder(None, max_query_length=128, max_doc_length=128)


