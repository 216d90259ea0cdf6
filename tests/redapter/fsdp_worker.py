"""Train a tiny Qwen3 + LoRA for a few steps, optionally sharded with FSDP2 (`fully_shard`), and save it.

Run as `torchrun --nproc_per_node 2 fsdp_worker.py MODEL TRAIN_FILE OUT` (gloo, CPU) or call `run(..., shard=False)`
in one process. Every rank trains on the same batch, so FSDP's averaged gradient equals the one-process gradient:
the saved models must match, and they can only match if the final save gathers the whole (consolidated) weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from redapter_helpers import tiny_overrides

from reasonembed.redapter.config import load_train_config
from reasonembed.redapter.trainer import build_trainer

STEPS = 3


def run(model_path: str, train_file: Path, out: Path, shard: bool) -> None:
    extra = ("loss.cross_device=false", "loss.ri_warmup_steps=0", "train.use_cpu=true", "train.save_strategy='no'",
             "model.lora=true", "model.lora_dropout=0.0", "train.dataloader_pin_memory=false",
             *(("train.fsdp=full_shard",) if shard else ()))  # accelerate ignores it on CPU (and says so, see test)
    trainer = build_trainer(load_train_config(None, tiny_overrides(model_path, train_file, out, *extra)))
    model = trainer.model
    if shard:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh("cpu", (torch.distributed.get_world_size(),))
        for layer in model.backbone.base_model.model.layers:
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    batch = trainer.data_collator([trainer.train_dataset[(0, (0, 1, 2, 3))]])
    for _ in range(STEPS):
        trainer.compute_loss(model, batch).backward()
        optimizer.step()
        optimizer.zero_grad()
    trainer.save_model(str(out / "final"))


if __name__ == "__main__":
    run(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), shard=True)
