"""`examples/theoremqa_oracle_experiment.py` runs from a fresh clone (bundled data, no ../shared path) and
splits by theorem with the quickstart's own split."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from reasonembed.data import theoremqa_q_dev
from reasonembed.evaluation.split import split_by_theorem

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "theoremqa_oracle_experiment.py"


def test_oracle_example_runs_on_bundled_data_with_the_quickstart_split(tmp_path):
    script = tmp_path / "clone" / "examples" / EXAMPLE.name  # a copy with nothing beside it
    script.parent.mkdir(parents=True)
    shutil.copy(EXAMPLE, script)
    out = tmp_path / "run"
    args = ["--out", str(out), "--steps", "1", "--warmup", "0", "--batch", "4", "--max-length", "32", "--negatives", "2"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, str(script), *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]

    reference = split_by_theorem(theoremqa_q_dev(), tmp_path / "reference", 0.5, 13)
    assert json.loads((out / "split.json").read_text())["theorems"] == reference.theorems
    results = json.loads((out / "results.json").read_text())
    assert results["split"]["heldout_queries"] == reference.queries["eval"]
    assert results["split"]["corpus"] == reference.documents["eval"]
    for row in ("untrained", "infonce", "ri_infonce"):
        assert 0.0 < results[row]["ndcg@10"] <= 1.0
    sample = json.loads((out / "train.jsonl").read_text().splitlines()[0])
    assert sample["reasoning_query"].startswith(sample["query"]) and "This problem is solved with the" in sample["reasoning_query"]
    assert not set(sample["pos_ids"]) & set(sample["neg_ids"])
