"""The quickstart's configuration is built from Redapter's own config types: `--set` and YAML reach them."""

from __future__ import annotations

import json

import pytest

from reasonembed.errors import ConfigError
from reasonembed.quickstart.config import load_quickstart_config, quickstart_config_dict
from reasonembed.quickstart.training import model_config
from reasonembed.redapter.config import DataConfig, LossConfig, ModelConfig, RedapterConfig, TrainConfig


def test_redapter_section_is_redapter_types_with_quickstart_defaults():
    r = load_quickstart_config().redapter
    assert isinstance(r, RedapterConfig)
    assert isinstance(r.model, ModelConfig) and isinstance(r.data, DataConfig)
    assert isinstance(r.loss, LossConfig) and isinstance(r.train, TrainConfig)
    assert (r.model.pooling, r.model.max_query_length, r.model.max_passage_length, r.model.lora) == ("mean", 256, 256, False)
    assert (r.data.group_size, r.data.use_data_sizes) == (4, False)
    assert (r.loss.temperature, r.loss.kappa, r.loss.ri_warmup_steps) == (0.05, 5.0, 2)
    assert (r.train.num_train_epochs, r.train.per_device_train_batch_size, r.train.learning_rate) == (2.0, 8, 2e-5)
    assert r.train.save_strategy == "no" and r.train.use_cpu


def test_synth_section_is_remixers_config_and_the_run_completes_it(tmp_path):
    from reasonembed.quickstart.run import QuickstartRun
    from reasonembed.remixer.config import SynthConfig

    cfg = load_quickstart_config(None, ["synth.mine.top_k=9", "synth.judge.sampling.max_tokens=64", "seed=5",
                                        f"out={tmp_path}", "llm.batch_size=2"])
    assert isinstance(cfg.synth, SynthConfig) and cfg.synth.generate.max_docs_per_domain == 16
    s = QuickstartRun(cfg).synth
    assert (s.mine.top_k, s.mine.search_k, s.judge.sampling.max_tokens, s.judge.sampling.top_k) == (9, 100, 64, 40)
    assert (s.seed, s.llm, s.clean.min_chars) == (5, cfg.llm, 30) and s.assemble.require_reasoning_query
    assert s.clean.decontaminate == [str(tmp_path / "data" / "eval")] and s.run_dir == str(tmp_path / "synth")
    assert quickstart_config_dict(cfg)["synth"]["mine"]["top_k"] == 9


def test_set_override_reaches_the_trained_model_config_and_keeps_sibling_defaults(tmp_path):
    cfg = load_quickstart_config(None, ["redapter.loss.temperature=0.02", "redapter.train.num_train_epochs=3",
                                        "redapter.train.gradient_accumulation_steps=2"])
    assert cfg.redapter.loss.temperature == 0.02
    assert cfg.redapter.loss.ri_warmup_steps == 2 and cfg.redapter.model.max_query_length == 256  # not Redapter's 100/512
    run = model_config(cfg.redapter, tmp_path / "s.jsonl", 3, tmp_path / "gold", "infonce", "Find the theorem.", 7)
    assert (run.loss.name, run.loss.temperature, run.model.instruction) == ("infonce", 0.02, "Find the theorem.")
    assert run.train.num_train_epochs == 3 and run.train.gradient_accumulation_steps == 2
    assert run.train.per_device_train_batch_size == 3  # never more queries per batch than samples
    assert run.train.seed == 7 and run.train.output_dir == str(tmp_path / "gold" / "checkpoints")
    assert run.data.train_files == [str(tmp_path / "s.jsonl")]

    saved = quickstart_config_dict(cfg)  # what DIR/quickstart_config.json holds: plain JSON, the override in it
    assert json.loads(json.dumps(saved))["redapter"]["loss"]["temperature"] == 0.02
    assert saved["redapter"]["train"]["num_train_epochs"] == 3


def test_yaml_file_reaches_redapter_types(tmp_path):
    path = tmp_path / "qs.yaml"
    path.write_text("redapter:\n  loss:\n    kappa: 3\n  data:\n    group_size: 2\ntrain:\n  min_samples: 1\n")
    cfg = load_quickstart_config(path)
    assert (cfg.redapter.loss.kappa, cfg.redapter.loss.temperature) == (3.0, 0.05)
    assert cfg.redapter.data.group_size == 2 and cfg.train.min_samples == 1


def test_bad_and_ignored_keys_are_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['epochs'\]"):  # the old second vocabulary is gone
        load_quickstart_config(None, ["train.epochs=3"])
    with pytest.raises(ConfigError, match="not one of"):
        load_quickstart_config(None, ["redapter.model.pooling=max"])
    for key in ("redapter.loss.name=infonce", "redapter.train.seed=1", "redapter.data.train_files=[x.jsonl]",
                "redapter.model.instruction=hi", "redapter.train.output_dir=elsewhere", "synth.seed=3",
                "synth.llm.backend=openai", "synth.clean.decontaminate=[x]", "synth.corpus=x.jsonl"):
        with pytest.raises(ConfigError, match="set by the quickstart"):
            load_quickstart_config(None, [key])
    cfg = load_quickstart_config(None, ["redapter.data.group_size=0"])
    with pytest.raises(ConfigError, match="group_size must be >= 1"):  # Redapter's own check, before any training
        model_config(cfg.redapter, tmp_path / "s.jsonl", 4, tmp_path, "infonce", "", 0)


def test_readme_quickstart_overrides_are_valid_keys():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The main job: `reasonembed quickstart`")[1].split("\n## ")[0]
    commands = "".join(re.findall(r"```bash\n(.*?)```", section, flags=re.S))
    sets = [w for line in commands.splitlines() for w in line.split("#")[0].split()
            if "=" in w and not w.startswith("-")]  # the positional key=value overrides
    assert len(sets) >= 2
    cfg = load_quickstart_config(None, sets)
    assert cfg.redapter.loss.temperature == 0.02 and cfg.redapter.train.learning_rate == 5e-5


def test_cli_flags_are_set_on_the_typed_config_not_spelled_as_yaml(tmp_path):
    from reasonembed.commands.quickstart import build_config

    url = "http://127.0.0.1:8000/v1?tag='a, b'"  # quotes and a comma: no YAML spelling survives this
    cfg = build_config(None, ["synth.generate.max_docs_per_domain=3", "redapter.loss.kappa=4"], out=tmp_path / "qs", llm_url=url,
                       llm_model="yes", docs=5, epochs=1, entailmentbank=False)
    assert cfg.out == str(tmp_path / "qs")
    assert (cfg.llm.backend, cfg.llm.base_urls, cfg.llm.model) == ("openai", [url], "yes")
    assert cfg.synth.generate.max_docs_per_domain == 5  # the flag wins over the override
    assert cfg.redapter.train.num_train_epochs == 1.0 and cfg.redapter.loss.kappa == 4.0
    assert cfg.eval.entailmentbank is False and cfg.synth.mine.top_k == 6
    assert build_config(None, ["out=elsewhere"]).out == "elsewhere"  # no --out: --set out= holds
    with pytest.raises(ConfigError, match="--llm-url needs --llm-model"):
        build_config(None, None, llm_url=url)
