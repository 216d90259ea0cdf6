"""`torchrun` with 2 CPU processes (gloo) trains exactly like 1 process holding the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from redapter_helpers import tiny_overrides


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _curve(out: Path, steps: int) -> dict[int, float]:
    state = json.loads((out / f"checkpoint-{steps}" / "trainer_state.json").read_text())
    return {h["step"]: h["infonce"] for h in state["log_history"] if "infonce" in h}


def _train(launcher: list[str], overrides: list[str]) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([*launcher, "-m", "reasonembed.cli", "train", *overrides], env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]


def _one_vs_two_processes(model: str, train_file: Path, tmp_path: Path, *two_extra: str) -> tuple[dict, dict]:
    """Train 3 steps in 1 process (batch 4) and in 2 torchrun processes (batch 2 each); both infonce curves."""
    common = ("model.lora=false", "train.max_steps=3", "train.save_steps=3", "loss.ri_warmup_steps=1",
              "train.use_cpu=true", "train.dataloader_pin_memory=false")
    one = tiny_overrides(model, train_file, tmp_path / "one", *common, "train.per_device_train_batch_size=4")
    two = tiny_overrides(model, train_file, tmp_path / "two", *common, "train.per_device_train_batch_size=2", *two_extra)
    _train([sys.executable], one)
    _train([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
            str(_free_port())], two)
    a, b = _curve(tmp_path / "one", 3), _curve(tmp_path / "two", 3)
    assert sorted(a) == sorted(b) == [1, 2, 3]
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-4), step
    return a, b


@pytest.mark.slow  # three processes importing transformers: ~40 s idle, minutes on a busy CPU
def test_two_process_ddp_matches_one_process(tiny_qwen3_path, train_file, tmp_path):
    a, _ = _one_vs_two_processes(tiny_qwen3_path, train_file, tmp_path)
    assert len(set(a.values())) == 3


@pytest.mark.slow  # as above, plus DeepSpeed compiling its CPU communication op on first use (~3 min)
def test_two_process_deepspeed_zero1_matches_one_process(tiny_qwen3_path, train_file, tmp_path):
    pytest.importorskip("deepspeed")  # not a project dependency: run with it on PYTHONPATH to check the recipe
    from reasonembed.embedder import Embedder

    _one_vs_two_processes(tiny_qwen3_path, train_file, tmp_path, "train.deepspeed=ds_zero1.json")  # bundled, by name
    assert (tmp_path / "two" / "checkpoint-3" / "global_step3").is_dir()  # DeepSpeed's own checkpoint was used
    docs = ["a passage on algebra number 0", "the derivative of a polynomial"]
    whole = Embedder(str(tmp_path / "one" / "final"), device="cpu").encode_documents(docs)
    zero1 = Embedder(str(tmp_path / "two" / "final"), device="cpu").encode_documents(docs)
    assert np.allclose(whole, zero1, atol=1e-4)  # the final save under ZeRO-1 is the whole trained model
