"""FSDP2 (`fully_shard`, 2 CPU processes, gloo) + LoRA: the final save holds the whole model, equal to one process.

HF Trainer's `fsdp` option cannot be exercised here: accelerate switches to FSDP only on GPU-type devices
(on CPU it stays MULTI_CPU and wraps the model in DDP), so the worker shards the model itself with torch's
`fully_shard` and drives the trainer's loss and `save_model`, which is the code under test.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import torch
from fsdp_worker import run
from safetensors.torch import load_file

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_fsdp_final_save_is_the_consolidated_model(tiny_qwen3_path, train_file, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
           str(HERE / "fsdp_worker.py"), tiny_qwen3_path, str(train_file), str(tmp_path / "fsdp")]
    proc = subprocess.run(cmd, cwd=HERE, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "train.fsdp is set but accelerate did not enable FSDP" in proc.stderr  # CPU: HF's fsdp option is inert
    run(tiny_qwen3_path, train_file, tmp_path / "one", shard=False)
    sharded = load_file(tmp_path / "fsdp" / "final" / "model.safetensors")
    whole = load_file(tmp_path / "one" / "final" / "model.safetensors")
    base = load_file(Path(tiny_qwen3_path) / "model.safetensors")
    assert sharded.keys() == whole.keys()
    changed = 0
    for name, value in whole.items():
        assert sharded[name].shape == value.shape, name
        # Both ranks see the same batch, so FSDP averages two equal fp32 gradients; what is left is the
        # order of fp32 sums in gloo's reduce-scatter vs one process, ~1e-7 on weights of size ~0.1.
        assert torch.allclose(sharded[name], value, rtol=0, atol=1e-5), name
        changed += not torch.allclose(value, base[f"model.{name}"], atol=1e-4)
    assert changed > 0  # LoRA training moved the merged weights
