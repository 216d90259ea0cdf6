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
