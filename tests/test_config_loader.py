from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from reasonembed.config import load_config, parse_overrides
from reasonembed.errors import ConfigError


@dataclass
class Inner:
    lr: float = field(default=1e-4, metadata={"help": "learning rate"})
    strategy: str = field(default="steps", metadata={"help": "save strategy"})


@dataclass
class Outer:
    name: str = field(default="x", metadata={"help": "run name"})
    pooling: Literal["mean", "cls"] = field(default="mean", metadata={"help": "pooling"})
    inner: Inner = field(default_factory=Inner, metadata={"help": "nested"})
    flag: bool = field(default=False, metadata={"help": "a switch"})


def test_yaml_plus_overrides(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("name: run1\ninner:\n  lr: 2e-5\n")
    cfg = load_config(Outer, cfg_file, ["inner.strategy=no", "flag=true", "pooling=cls"])
    assert cfg.name == "run1" and cfg.inner.lr == 2e-5 and cfg.inner.strategy == "no"
    assert cfg.flag is True and cfg.pooling == "cls"


def test_errors_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="unknown key"):
        load_config(Outer, None, ["inner.nope=1"])
    with pytest.raises(ConfigError, match="pooling"):
        load_config(Outer, None, ["pooling=max"])
    with pytest.raises(ConfigError, match="inner.lr"):
        load_config(Outer, None, ["inner.lr=fast"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(Outer, bad)
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["novalue"])


def test_a_nested_section_given_in_part_keeps_its_own_defaults_for_the_rest(tmp_path):
    # SynthConfig's judge samples at T=0.7, top_p=0.95, top_k=40 (SamplingParams' own defaults are 1.0/1.0/None):
    # setting only the judge's max_tokens must not reset the other three.
    from reasonembed.remixer.config import SynthConfig

    cfg = load_config(SynthConfig, None, ["judge.sampling.max_tokens=64"])
    s = cfg.judge.sampling
    assert (s.temperature, s.top_p, s.top_k, s.max_tokens) == (0.7, 0.95, 40, 64)
    assert cfg.generate.sampling.top_p == 0.6 and cfg.judge.max_doc_chars == 49152
    path = tmp_path / "synth.yaml"
    path.write_text("generate:\n  sampling:\n    max_tokens: 128\n")
    g = load_config(SynthConfig, path, ["generate.sampling.top_p=0.9"]).generate.sampling
    assert (g.temperature, g.top_p, g.max_tokens) == (1.0, 0.9, 128)
    assert load_config(SynthConfig, None, ["judge_llm.model=m"]).judge_llm.model == "m"  # a None section: built fresh
    with pytest.raises(ConfigError, match=r"judge\.sampling: unknown key\(s\) \['depth'\]"):
        load_config(SynthConfig, None, ["judge.sampling.depth=3"])
