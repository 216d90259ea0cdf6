"""scripts/gpu_smoke.sh: PASS/FAIL per check, non-zero exit on failure; exercised here with --device cpu."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gpu_smoke.sh"


def _run(*args: str, timeout: int = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


def test_bad_device_is_a_usage_error():
    proc = _run("--device", "tpu")
    assert proc.returncode == 2 and "--device must be cuda or cpu" in proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_fails_loudly():
    proc = _run("--device", "cuda")
    assert proc.returncode == 1
    assert proc.stdout.startswith("FAIL  environment") and "no CUDA device" in proc.stdout


@pytest.mark.slow  # the three checks take a few minutes on 2 CPU cores
def test_all_checks_pass_on_cpu():
    proc = _run("--device", "cpu", timeout=1200)
    lines = proc.stdout.splitlines()
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    for check in ("environment", "bf16-parity", "lora-gradcache-train", "eval-theoremqa"):
        assert any(line.startswith(f"PASS  {check}") for line in lines), (check, proc.stdout)
