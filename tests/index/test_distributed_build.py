"""`torchrun --nproc_per_node 2 -m reasonembed.cli index`: two CPU processes (gloo) share the encoding
of every shard, rank 0 writes, and the index equals a one-process build."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np


def _index(args: list[str], launcher: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([*launcher, "-m", "reasonembed.cli", "index", *args], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_two_process_torchrun_index_equals_one_process(tmp_path: Path, write_corpus, theoremqa_docs) -> None:
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:23])
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    common = ["--corpus", str(corpus), "--shard-size", "10"]  # shards of 10, 10, 3 documents
    one = _index([*common, "--out", str(tmp_path / "one")], [sys.executable], env)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    two = _index([*common, "--out", str(tmp_path / "two")], torchrun, env)
    assert "23 documents (23 added, 0 already there)" in one.stdout
    assert two.stdout.count("23 documents (23 added, 0 already there)") == 1  # rank 0 alone reports
    shards = {}
    for name in ("one", "two"):
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["count"] == 23 and len(manifest["shards"]) == 3
        files = sorted((tmp_path / name / "shards").glob("*.npy"))
        shards[name] = np.concatenate([np.load(f) for f in files])
        ids = [json.loads(line)["id"] for f in sorted((tmp_path / name / "shards").glob("*.jsonl"))
               for line in f.read_text().splitlines()]
        assert ids == [d["id"] for d in theoremqa_docs[:23]]
    np.testing.assert_allclose(shards["two"], shards["one"], rtol=0, atol=1e-6)
