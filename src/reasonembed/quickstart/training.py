"""Train MiniLM with Redapter for the quickstart, and measure reasoning intensity per sample.

Why a wrapper: the quickstart trains twice (synthetic samples with RI-InfoNCE; gold pairs with
InfoNCE) from the same `RedapterConfig` (`QuickstartConfig.redapter`), sized to the data it gets, and
needs the loss curve and the RI statistics for its report. The training itself is entirely
`reasonembed.redapter` (HF Trainer subclass, `losses/ri_infonce.py`); nothing here re-implements it.

RI distribution: the trainer logs only per-step RI aggregates, so `per_sample_ri` recomputes
RI_i = min(L_i / L'_i, kappa) for every sample (one group of `group_size` passages each, batches of
`batch_size` as in training, in-batch negatives) with a given model, through
`RIInfoNCELoss.reasoning_intensity` — the formula's one home.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from reasonembed.io import read_jsonl
from reasonembed.redapter.config import RedapterConfig, check_train_config, resolved_dict


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
    history = [h for h in trainer.state.log_history if "loss" in h and "step" in h]
    return {
        "model_dir": str(model_dir),
        "samples": n,
        "batch_size": batch,
        "steps": int(trainer.state.global_step),
        "train_seconds": round(wall, 2),
        "loss": loss,
        "loss_curve": [[h["step"], h["loss"]] for h in history],
        "infonce_curve": [[h["step"], h["infonce"]] for h in history if "infonce" in h],
        "ri_steps": [{k: h[k] for k in ("step", "ri_min", "ri_median", "ri_mean", "ri_max") if k in h}
                     for h in history if "ri_mean" in h],
        "config": resolved_dict(cfg),
    }


def per_sample_ri(model: Any, samples: list[dict[str, Any]], group_size: int, batch_size: int,
                  temperature: float, kappa: float, seed: int = 0) -> list[float]:
    """RI of every sample that has a reasoning query, with `model` (an Embedder or a model dir)."""
    import torch

    from reasonembed.embedder import Embedder
    from reasonembed.losses import RIInfoNCELoss
    from reasonembed.losses.infonce import infonce_per_sample
    from reasonembed.records import TrainingSample
    from reasonembed.redapter.data import sample_group

    embedder = model if isinstance(model, Embedder) else Embedder(None if model is None else str(model))
    ri_loss = RIInfoNCELoss(embedder, temperature, kappa=kappa, warmup_steps=0)
    usable = [TrainingSample.model_validate(s) for s in samples if s.get("reasoning_query")]
    rng = random.Random(seed)
    values: list[float] = []
    for start in range(0, len(usable), max(1, batch_size)):
        chunk = usable[start:start + batch_size]
        passages = [p for s in chunk for p in sample_group(s, group_size, rng)]
        q = torch.from_numpy(embedder.encode([embedder.format_query(s.query, s.prompt) for s in chunk],
                                             embedder.max_query_length))
        q2 = torch.from_numpy(embedder.encode([embedder.format_query(s.reasoning_query or s.query, s.prompt)
                                               for s in chunk], embedder.max_query_length))
        p = torch.from_numpy(embedder.encode_documents(passages))
        labels = torch.arange(len(chunk)) * group_size
        losses = infonce_per_sample(q, p, labels, temperature)
        reasoning = infonce_per_sample(q2, p, labels, temperature)
        values.extend(ri_loss.reasoning_intensity(losses, reasoning).tolist())
    return values
