"""Train MiniLM with Redapter for the quickstart.

The quickstart trains twice (synthetic samples with RI-InfoNCE; gold pairs with InfoNCE) from the same
`RedapterConfig` (`QuickstartConfig.redapter`), sized to the data it gets, and keeps the loss curve and
RI statistics for its report (`redapter.diagnostics`). The training itself is entirely
`reasonembed.redapter`; nothing here re-implements it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from reasonembed.io import read_jsonl
from reasonembed.redapter.config import RedapterConfig, check_train_config, resolved_dict
from reasonembed.redapter.diagnostics import training_history


def model_config(base: RedapterConfig, samples: str | Path, n: int, out_dir: str | Path, loss: str,
                 instruction: str, seed: int) -> RedapterConfig:
    """`base` (the quickstart's `redapter` section) completed for one trained model, checked as Redapter checks
    every config: its samples, loss, instruction, checkpoint folder, seed, and a batch the `n` samples can fill."""
    batch = max(1, min(base.train.per_device_train_batch_size, n))  # the sampler drops incomplete batches
    return check_train_config(replace(
        base,
        model=replace(base.model, instruction=instruction),
        data=replace(base.data, train_files=[str(samples)]),
        loss=replace(base.loss, name=loss),
        train=replace(base.train, output_dir=str(Path(out_dir) / "checkpoints"), per_device_train_batch_size=batch,
                      seed=seed),
    ))


def train_model(samples: str | Path, out_dir: str | Path, base: RedapterConfig, loss: str, instruction: str,
                seed: int) -> dict[str, Any]:
    """Train on `samples` (TrainingSample JSONL); save a sentence-transformers model to `out_dir/model`."""
    from reasonembed.redapter.trainer import build_trainer

    out_dir = Path(out_dir)
    n = len(read_jsonl(samples))
    cfg = model_config(base, samples, n, out_dir, loss, instruction, seed)
    batch = cfg.train.per_device_train_batch_size
    trainer = build_trainer(cfg)
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    model_dir = out_dir / "model"
    trainer.save_model(str(model_dir))
    return {
        "model_dir": str(model_dir),
        "samples": n,
        "batch_size": batch,
        "steps": int(trainer.state.global_step),
        "train_seconds": round(wall, 2),
        "loss": loss,
        **training_history(trainer.state.log_history),
        "config": resolved_dict(cfg),
    }

