"""Fixtures for Redapter tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from redapter_helpers import write_samples


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    return write_samples(tmp_path / "train.jsonl")
