"""Fixtures for index tests: the session MiniLM and small real corpora (TheoremQA dev docs, tests/conftest.py)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def embedder(minilm_embedder):
    return minilm_embedder


@pytest.fixture(scope="session")
def flat_index(make_index, theoremqa_docs: list[dict]) -> Path:
    """A flat index with a BM25 side index over the 60 documents, in shards of 25 (built once, read-only in tests)."""
    return make_index("flat", theoremqa_docs, bm25=True, shard_size=25)


@contextmanager
def _killed_at_save(n: int, partial: bytes = b"") -> Iterator[None]:
    """Within the block the n-th np.save writes `partial` and raises KeyboardInterrupt, like a kill
    mid-build; the block must be killed so, and np.save is itself again after it."""
    real_save = np.save
    calls = 0

    def dying_save(handle, array):
        nonlocal calls
        calls += 1
        if calls == n:
            if partial:
                handle.write(partial)
            raise KeyboardInterrupt("killed")
        real_save(handle, array)

    with pytest.MonkeyPatch.context() as patch, pytest.raises(KeyboardInterrupt):
        patch.setattr(np, "save", dying_save)
        yield


@pytest.fixture(scope="session")
def killed_at_save():
    """with killed_at_save(n, partial=b""): build_index(...) - the n-th shard's vectors die (see _killed_at_save)."""
    return _killed_at_save


def _cli_killed_at(corpus: Path, out: Path, shard_file: str) -> list[str]:
    """`reasonembed index --corpus corpus --out out --shard-size 4` in a child process, killed with a real
    SIGKILL as soon as shards/<shard_file> exists; returns the command line, to run it again."""
    cmd = [sys.executable, "-m", "reasonembed.cli", "index", "--corpus", str(corpus), "--out", str(out), "--shard-size", "4"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (out / "shards" / shard_file).exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the build ended before it could be killed"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return cmd


@pytest.fixture(scope="session")
def cli_killed_at():
    """cli_killed_at(corpus, out, shard_file) -> command: `reasonembed index` SIGKILLed mid-build (see _cli_killed_at)."""
    return _cli_killed_at
