from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from redapter_helpers import tiny_overrides

from reasonembed.redapter.config import load_train_config
from reasonembed.redapter.trainer import build_trainer


def _losses(trainer) -> dict[int, dict[str, float]]:
    keys = ("loss", "infonce", "ri_mean", "ri_max")
    return {h["step"]: {k: h[k] for k in keys if k in h} for h in trainer.state.log_history if "loss" in h}


def test_resume_reproduces_the_uninterrupted_loss_curve(tiny_qwen3_path, train_file, tmp_path):
    # LoRA dropout 0.1 is on, so equal curves also need the RNG state restored.
    extra = ("train.max_steps=6", "train.save_steps=3", "loss.ri_warmup_steps=2")
    full = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path / "a", *extra)))
    full.train()
    curve = _losses(full)
    assert sorted(curve) == [1, 2, 3, 4, 5, 6]  # 4 batches per epoch: steps 5-6 are in epoch 2
    assert "ri_mean" not in curve[2] and "ri_mean" in curve[3]  # RI starts after 2 optimizer steps

    resumed = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path / "b", *extra)))
    resumed.train(resume_from_checkpoint=str(tmp_path / "a" / "checkpoint-3"))
    again = _losses(resumed)  # steps 1-3 come back from the checkpoint's trainer_state.json
    assert sorted(again) == [1, 2, 3, 4, 5, 6]
    for step in (4, 5, 6):
        assert again[step].keys() == curve[step].keys()
        for key, value in curve[step].items():
            assert again[step][key] == pytest.approx(value, rel=1e-5, abs=1e-6), (step, key)
    assert curve[4]["loss"] != pytest.approx(curve[5]["loss"])  # the curve is not flat


def test_warmup_counts_optimizer_steps_not_micro_batches(tiny_qwen3_path, train_file, tmp_path):
    extra = ("train.max_steps=2", "train.gradient_accumulation_steps=2", "loss.ri_warmup_steps=1",
             "train.per_device_train_batch_size=2", "train.save_strategy='no'")
    trainer = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path, *extra)))
    trainer.train()
    curve = _losses(trainer)
    assert "ri_mean" not in curve[1]  # both micro-batches of optimizer step 0 are warm-up
    assert "ri_mean" in curve[2]


def test_tiny_qwen3_lora_trains_saves_merged_and_reloads(tiny_qwen3_path, train_file, tmp_path):
    from sentence_transformers import SentenceTransformer

    from reasonembed.embedder import Embedder

    extra = ("train.max_steps=3", "train.save_strategy='no'", "train.activation_checkpointing=true",
             "loss.ri_warmup_steps=1", "model.instruction=Given a math post, retrieve relevant passages.")
    trainer = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path, *extra)))
    emb = trainer.model
    assert emb.pooling == "last_token" and hasattr(emb.backbone, "peft_config")
    assert emb.backbone.base_model.model.is_gradient_checkpointing
    lora_before = {n: p.detach().clone() for n, p in emb.named_parameters() if "lora_B" in n}
    trainer.train()
    assert any(not torch.equal(p, lora_before[n]) for n, p in emb.named_parameters() if "lora_B" in n)
    out = tmp_path / "final"
    trainer.save_model(str(out))
    assert (out / "modules.json").exists() and not (out / "adapter_config.json").exists()
    record = json.loads((out / "redapter_config.json").read_text())
    assert record["config"]["loss"]["name"] == "ri_infonce" and "git_sha" in record

    emb.eval()
    docs = ["a passage on algebra number 0", "the derivative of a polynomial"]
    live = emb.encode_documents(docs)
    live_q = emb.encode_queries(["question 1 about geometry"])
    st = SentenceTransformer(str(out), device="cpu")
    assert np.allclose(st.encode(docs, normalize_embeddings=True), live, atol=1e-4)
    assert np.allclose(st.encode(["question 1 about geometry"], prompt_name="query"), live_q, atol=1e-4)
    reloaded = Embedder(str(out), device="cpu")
    assert reloaded.pooling == "last_token" and reloaded.instruction.startswith("Given a math post")
    assert np.allclose(reloaded.encode_documents(docs), live, atol=1e-4)
    base = Embedder(tiny_qwen3_path, device="cpu")
    assert not np.allclose(base.encode_documents(docs), live, atol=1e-3)  # the merged weights differ


def test_gradcache_inside_the_trainer_gives_the_same_curve(tiny_qwen3_path, train_file, tmp_path):
    # Tiny Qwen3 without LoRA has no dropout; left padding is per batch, so mini-batches embed identically.
    extra = ("train.max_steps=3", "train.save_strategy='no'", "model.lora=false", "loss.ri_warmup_steps=1")
    curves = []
    for name, mini in (("plain", 0), ("cached", 2)):
        overrides = tiny_overrides(tiny_qwen3_path, train_file, tmp_path / name, *extra,
                                   f"loss.gradcache_mini_batch_size={mini}")
        trainer = build_trainer(load_train_config(None, overrides))
        trainer.train()
        curves.append(_losses(trainer))
    for step in (1, 2, 3):
        assert curves[1][step]["loss"] == pytest.approx(curves[0][step]["loss"], rel=1e-4), step


def test_dev_evaluation_every_n_steps(tiny_qwen3_path, train_file, tmp_path):
    dev = tmp_path / "dev"
    dev.mkdir()
    docs = [{"id": f"d{i}", "content": f"a passage on {t} number 0"} for i, t in enumerate(["algebra", "geometry", "music"])]
    examples = [{"id": "q0", "query": "question about algebra", "gold_ids": ["d0"], "excluded_ids": []},
                {"id": "q1", "query": "question about music", "gold_ids": ["d2"], "excluded_ids": ["N/A"]}]
    (dev / "documents.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (dev / "examples.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples))
    extra = ("train.max_steps=3", "train.save_strategy='no'", f"data.dev_dataset={dev}", "data.dev_every_steps=2")
    trainer = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path / "o", *extra)))
    trainer.train()
    dev_logs = [(h["step"], h["dev_ndcg@10"]) for h in trainer.state.log_history if "dev_ndcg@10" in h]
    assert [s for s, _ in dev_logs] == [2, 3]  # every 2 steps, and at the end
    assert all(0.0 <= v <= 1.0 for _, v in dev_logs)
    assert trainer.model.training  # evaluation put the model back in train mode


def test_same_seed_gives_the_same_lora_model(tiny_qwen3_path, train_file, tmp_path):
    # peft draws lora_A from the global RNG when the adapter is built, so the seed must be set before that.
    extra = ("train.max_steps=2", "train.save_strategy='no'", "loss.ri_warmup_steps=1")
    weights = []
    for name in ("a", "b"):
        torch.manual_seed(len(weights) + 100)  # whatever ran before must not matter
        trainer = build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path / name, *extra)))
        trainer.train()
        weights.append({n: p.detach().clone() for n, p in trainer.model.named_parameters()})
    assert any("lora_A" in n for n in weights[0])
    for name, value in weights[0].items():
        assert torch.equal(value, weights[1][name]), name


def test_fsdp_in_one_process_is_a_config_error(tiny_qwen3_path, train_file, tmp_path):
    from reasonembed.errors import ConfigError

    extra = ("train.fsdp=full_shard", "train.use_cpu=true", "train.save_strategy='no'")
    with pytest.raises(ConfigError, match=r"train\.fsdp.*several processes"):
        build_trainer(load_train_config(None, tiny_overrides(tiny_qwen3_path, train_file, tmp_path, *extra)))
