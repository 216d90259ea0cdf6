from __future__ import annotations

from pathlib import Path

import pytest

from reasonembed.errors import ConfigError
from reasonembed.redapter.config import RedapterConfig, load_train_config, resolved_dict

RECIPES = Path(__file__).resolve().parents[2] / "src" / "reasonembed" / "recipes"


def test_paper_recipe_matches_the_published_hyperparameters():
    cfg = load_train_config(RECIPES / "reasonembed-qwen3-8b.yaml", ["data.train_files=[x.jsonl]"])
    assert (cfg.loss.name, cfg.loss.temperature, cfg.loss.kappa, cfg.loss.ri_warmup_steps) == ("ri_infonce", 0.02, 5.0, 100)
    assert (cfg.model.lora, cfg.model.lora_r, cfg.model.lora_alpha, cfg.model.lora_dropout) == (True, 32, 64, 0.1)
    assert cfg.model.lora_target_modules == ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    assert cfg.model.pooling == "last_token" and cfg.data.group_size == 16
    assert (cfg.train.learning_rate, cfg.train.warmup_steps, cfg.train.num_train_epochs) == (1e-4, 0.1, 1)
    assert cfg.train.per_device_train_batch_size == 8 and cfg.train.activation_checkpointing


def test_cpu_recipe_and_overrides():
    cfg = load_train_config(RECIPES / "minilm-cpu.yaml", ["data.train_files=[a.jsonl]", "loss.name=infonce",
                                                          "train.learning_rate=5e-5", "model.max_query_length=64"])
    assert cfg.model.lora is False and cfg.loss.name == "infonce"
    assert cfg.train.learning_rate == 5e-5 and cfg.model.max_query_length == 64
    assert resolved_dict(cfg)["train"]["learning_rate"] == 5e-5


@pytest.mark.parametrize(
    ("overrides", "match"),
    [([], "train_files"), (["data.train_files=[a]", "loss.nme=x"], "nme"),
     (["data.train_files=[a]", "loss.name=triplet"], "triplet"), (["data.train_files=[a]", "data.group_size=0"], "group_size")],
)
def test_bad_config_is_reported(overrides, match):
    with pytest.raises(ConfigError, match=match):
        load_train_config(None, overrides)


def test_every_field_has_help():
    import dataclasses

    for section in dataclasses.fields(RedapterConfig):
        assert section.metadata.get("help")
        for f in dataclasses.fields(section.default_factory()):  # type: ignore[misc]
            assert f.metadata.get("help"), f"{section.name}.{f.name}"


def test_bundled_deepspeed_zero1_config():
    import importlib.util
    import json

    ds = json.loads((RECIPES / "ds_zero1.json").read_text())
    assert ds["zero_optimization"]["stage"] == 1 and ds["bf16"]["enabled"] == "auto"  # bf16 from model.precision
    if importlib.util.find_spec("deepspeed") is None:
        with pytest.raises(ConfigError, match="train.deepspeed: the deepspeed package is not installed"):
            load_train_config(None, ["data.train_files=[x.jsonl]", "train.deepspeed=ds_zero1.json"])
    else:
        cfg = load_train_config(None, ["data.train_files=[x.jsonl]", "train.deepspeed=ds_zero1.json"])
        assert cfg.train.deepspeed == str(RECIPES / "ds_zero1.json")
