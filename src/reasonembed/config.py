"""Typed configs from YAML with `key=value` CLI overrides, shared by every stage driver.

A config is a (possibly nested) dataclass whose fields carry `metadata={"help": ...}`.
`load_config(Cls, "cfg.yaml", ["train.lr=1e-4", "model.pooling=mean"])` reads the YAML, applies
the overrides (dotted paths, values parsed as YAML scalars), checks unknown keys and types, and
returns an instance. `config_to_dict` gives the resolved config to save beside an artefact.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import yaml

from reasonembed.errors import ConfigError

T = TypeVar("T")
_YAML11_BOOL_WORDS = {"yes", "no", "on", "off", "y", "n"}


def parse_overrides(overrides: list[str] | None) -> dict[str, Any]:
    """`["a.b=1", "c=x"]` -> `{"a": {"b": 1}, "c": "x"}` (values parsed as YAML scalars)."""
    tree: dict[str, Any] = {}
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form key=value (e.g. train.max_steps=100)")
        key, raw = item.split("=", 1)
        # YAML 1.1 reads yes/no/on/off as booleans; on the command line they are almost always strings
        # (e.g. save_strategy=no), so only true/false become booleans here.
        if raw.strip().lower() in _YAML11_BOOL_WORDS:
            value: Any = raw
        else:
            value = yaml.safe_load(raw) if raw != "" else ""
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {item!r} conflicts with another override")
        node[parts[-1]] = value
    return tree


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if hint is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: bad value {value!r}")
    if origin is typing.Literal:
        if value not in get_args(hint):
            raise ConfigError(f"{where}: {value!r} is not one of {list(get_args(hint))}")
        return value
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _build(hint, value, where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        (item_hint, *_rest) = get_args(hint) or (Any,)
        return [_coerce(v, item_hint, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if hint in (int, str, bool) and not (
        isinstance(value, hint) and not (hint is int and isinstance(value, bool))
    ):
        raise ConfigError(f"{where}: expected {hint.__name__}, got {value!r}")
    return value


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return None


def _build(cls: type[T], data: dict[str, Any], where: str, base: Any = None) -> T:
    """`cls` from `data`; a field not in `data` keeps its value in `base` (else its default). A nested
    dataclass given in part is built on top of its current value, so `judge.sampling.max_tokens=64` keeps
    the judge's own temperature and top_k rather than those of a bare `SamplingParams()`."""
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where or cls.__name__}: unknown key(s) {unknown}; valid keys: {sorted(fields)}")
    kwargs = {}
    for key, value in data.items():
        at = f"{where + '.' if where else ''}{key}"
        current = None
        if isinstance(value, dict):  # a section given in part: start from its current value, if it is one
            current = getattr(base, key) if base is not None else _default(fields[key])
        if dataclasses.is_dataclass(current) and not isinstance(current, type):
            kwargs[key] = _build(type(current), value, at, current)
        else:
            kwargs[key] = _coerce(value, hints[key], at)
    try:
        return dataclasses.replace(base, **kwargs) if base is not None else cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where or cls.__name__}: {exc}") from None


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None) -> T:
    """Build `cls` from an optional YAML file plus dotted `key=value` overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.exists():
            raise ConfigError(f"{path}: config file not found")
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: invalid YAML: {exc}") from None
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(f"{path}: top level must be a mapping")
        data = loaded or {}
    data = _merge(data, parse_overrides(overrides))
    try:
        return _build(cls, data, "")
    except ConfigError as exc:
        if path is not None:
            raise ConfigError(f"{path}: {exc}") from None
        raise


def config_to_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


def provenance_stamp() -> dict[str, Any]:
    """Package version and git SHA (when run from a checkout) to save beside artefacts."""
    import subprocess

    from reasonembed import __version__

    sha = None
    try:
        here = Path(__file__).resolve().parent
        sha = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=5
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        sha = None
    return {"reasonembed_version": __version__, "git_sha": sha}
