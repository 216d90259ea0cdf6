"""Corpus encoding: shard bounds, and a 2-process torchrun (gloo, CPU) equal to one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from reasonembed.encoding import shard_bounds


def test_shard_bounds_cover_every_item_once() -> None:
    for n in (0, 1, 5, 10, 11):
        for size in (1, 2, 3, 4):
            bounds = shard_bounds(n, size)
            assert len(bounds) == size and bounds[0][0] == 0 and bounds[-1][1] == n
            assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
            assert max(e - s for s, e in bounds) - min(e - s for s, e in bounds) <= 1


def _eval_cli(args: list[str], env: dict[str, str], launcher: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.run([*launcher, "-m", "reasonembed.cli", "eval", *args], capture_output=True, text=True,
                          timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


def test_two_process_torchrun_eval_equals_one_process(tmp_path: Path, minilm_path: str) -> None:
    # a corpus of 11 documents: ranks encode 5 and 6 of them
    docs = [{"id": f"d{i:02d}", "content": f"document {i} about topic {i % 3} " * (1 + i % 4)} for i in range(11)]
    examples = [{"id": f"q{i}", "query": f"topic {i % 3}", "gold_ids": [f"d{i:02d}"], "excluded_ids": ["N/A"]}
                for i in range(6)]
    data = tmp_path / "tiny"
    data.mkdir()
    (data / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (data / "examples.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    common = ["--model", minilm_path, "--dataset", str(data), "--no-instruction"]
    _eval_cli([*common, "--out", str(tmp_path / "one"), "--cache-dir", str(tmp_path / "c1")], env, [sys.executable])
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = _eval_cli([*common, "--out", str(tmp_path / "two"), "--cache-dir", str(tmp_path / "c2")], env, torchrun)
    assert "rank 0/2 encoded documents 0..5" in proc.stderr and "rank 1/2 encoded documents 5..11" in proc.stderr

    one = json.loads((tmp_path / "one" / "results.json").read_text())["tasks"]["tiny"]
    two = json.loads((tmp_path / "two" / "results.json").read_text())["tasks"]["tiny"]
    assert two["per_query"] == one["per_query"]
    rankings = [[line.split()[:4] for line in (tmp_path / o / "runs" / "tiny.trec").read_text().splitlines()]
                for o in ("one", "two")]
    assert rankings[0] == rankings[1]  # same documents at the same ranks
    (e1,), (e2,) = (list((tmp_path / c).glob("*.npy")) for c in ("c1", "c2"))
    np.testing.assert_allclose(np.load(e2), np.load(e1), atol=1e-6)
    assert e1.name == e2.name  # same cache key: same fingerprint, same corpus
    assert not (tmp_path / "c2" / "shards").exists() or not any((tmp_path / "c2" / "shards").rglob("*.npy"))
