"""Run named stages in order, keyed by what they depend on: reuse, resume, rebuild, progress, time left.

Why: ReMixer's six stages (`reasonembed synth run`) and the quickstart's thirteen both take minutes
to days, and a second run (after a crash, a Ctrl-C, or with a changed config) must neither redo
finished work nor keep output that no longer matches the config. One orchestrator serves both.

* Each stage owns a folder (`ROOT/<name>/` unless it names another, relative or absolute) and
  declares the config its output depends on plus the input files it reads (`inputs`, hashed by
  content when the stage comes up). Its key is a hash of those, the keys of the stages it depends on
  and (unless `version_in_key=False`) the package version, so a change upstream invalidates
  everything downstream.
* When a stage finishes, `ROOT/.stages/<name>.json` records its key, config, wall time and summary
  (the done-marker). A later run with the same key skips it and reuses the summary.
* A stage that started but did not finish keeps its folder when the key is unchanged: stages write
  with resumable JSONL writers, so the rerun continues where it was killed. When the key changed (or
  the folder was not made under a recorded key), the stale folder is set aside to
  `ROOT/.stale/<name>/` (replacing an older one) before the stage runs again: never mixed into the
  new output, and the last one kept in case it was expensive.
* `run(only=[...])` runs some stages; every stage they depend on must already be done under the key
  the current config gives it, else a `ConfigError` names the stage to run first.
* Time left: every stage brings an a-priori estimate (seconds on 2 CPU cores); after each stage the
  estimates of the remaining stages of the same kind ("llm", "cpu") are rescaled by how far off the
  finished ones were.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonembed import __version__
from reasonembed.errors import ConfigError
from reasonembed.io import write_json

MIN_CALIBRATION_S = 30.0


@dataclass
class Stage:
    """One step. `run(folder)` does the work and returns a JSON-able summary."""

    name: str
    run: Callable[[Path], dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)
    depends: list[str] = field(default_factory=list)
    estimate_s: float = 10.0
    kind: str = "cpu"
    title: str = ""
    folder: str | None = None  # relative to the pipeline root (or absolute); default: the stage name
    inputs: list[str] = field(default_factory=list)  # files or folders whose content is part of the key


@dataclass
class StageOutcome:
    name: str
    key: str
    summary: dict[str, Any]
    wall_s: float
    reused: bool


def wall_time_table(outcomes: Iterable[StageOutcome]) -> str:
    """A markdown table of wall time per stage; a reused stage shows the time it took when it ran."""
    outcomes = list(outcomes)
    lines = ["| stage | wall time (s) | this run |", "|---|---|---|"]
    for o in outcomes:
        lines.append(f"| {o.name} | {o.wall_s:.1f} | {'reused' if o.reused else 'ran'} |")
    this_run = sum(o.wall_s for o in outcomes if not o.reused)
    lines.append(f"| **all stages** | {sum(o.wall_s for o in outcomes):.1f} | {this_run:.1f} s in this run |")
    return "\n".join(lines)


def content_hash(paths: Iterable[str | Path]) -> dict[str, str]:
    """sha256 of each file's bytes (a folder: of its files, by relative path); 'missing' when absent."""
    out: dict[str, str] = {}
    for raw in paths:
        path = Path(raw)
        digest = hashlib.sha256()
        if path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")):
                digest.update(str(f.relative_to(path)).encode() + b"\0")
                _update_file(digest, f)
        elif path.is_file():
            _update_file(digest, path)
        else:
            out[str(raw)] = "missing"
            continue
        out[str(raw)] = digest.hexdigest()[:16]
    return out


def _update_file(digest: Any, path: Path) -> None:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)


def stage_key(stage: Stage, upstream: list[str], version: str | None) -> str:
    blob = json.dumps({"config": stage.config, "inputs": sorted(content_hash(stage.inputs).values()),
                       "upstream": upstream, "version": version}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Pipeline:
    def __init__(self, root: str | Path, stages: list[Stage], log: Callable[[str], None] | None = None,
                 version_in_key: bool = True, on_stage_done: Callable[[Pipeline], None] | None = None):
        names = [s.name for s in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate stage names in {names}")
        for i, stage in enumerate(stages):
            unknown = [d for d in stage.depends if d not in names[:i]]
            if unknown:
                raise ValueError(f"stage {stage.name!r} depends on {unknown}, which do not run before it")
        self.root = Path(root)
        self.stages = stages
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.version = __version__ if version_in_key else None
        self.on_stage_done = on_stage_done
        self.marks = self.root / ".stages"
        self.outcomes: dict[str, StageOutcome] = {}
        self._todo = stages  # the stages this run executes (all, or those `run(only=...)` names)

    def folder(self, stage: Stage) -> Path:
        return self.root / (stage.folder or stage.name)

    def _marker(self, name: str, suffix: str = "json") -> Path:
        return self.marks / f"{name}.{suffix}"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def done_markers(self) -> dict[str, dict[str, Any]]:
        """The done-marker of every finished stage (key, config, summary): what each output was built with."""
        return {s.name: m for s in self.stages if (m := self._read(self._marker(s.name))) is not None}

    def _time_left(self, start: int, actual: dict[str, float], estimated: dict[str, float]) -> float:
        """Remaining estimates, each rescaled by actual/estimated of its kind once that kind has had
        at least MIN_CALIBRATION_S of estimated work (tiny stages say little about big ones)."""
        left = 0.0
        for stage in self._todo[start:]:
            est = estimated.get(stage.kind, 0.0)
            ratio = actual[stage.kind] / est if est >= MIN_CALIBRATION_S else 1.0
            left += stage.estimate_s * ratio
        return left

    def _set_aside(self, stage: Stage, folder: Path) -> None:
        target = self.root / ".stale" / stage.name
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(folder), str(target))
        self.log(f"{stage.name}: output built under another config set aside to {target}; rebuilding")

    def run(self, only: Iterable[str] | None = None) -> dict[str, StageOutcome]:
        selected = set(only) if only is not None else {s.name for s in self.stages}
        unknown = selected - {s.name for s in self.stages}
        if unknown:
            raise ConfigError(f"unknown stage(s) {sorted(unknown)}; stages: {[s.name for s in self.stages]}")
        needed = set(selected)
        for stage in reversed(self.stages):
            if stage.name in needed:
                needed.update(stage.depends)
        self.root.mkdir(parents=True, exist_ok=True)
        self.marks.mkdir(parents=True, exist_ok=True)
        actual: dict[str, float] = {}
        estimated: dict[str, float] = {}
        todo = self._todo = [s for s in self.stages if s.name in selected]
        n = len(todo)
        began = time.monotonic()
        self.log(f"{n} stages, about {format_seconds(sum(s.estimate_s for s in todo))} estimated in all")
        for stage in self.stages:
            if stage.name not in needed:
                continue
            key = stage_key(stage, [self.outcomes[d].key for d in stage.depends], self.version)
            done = self._read(self._marker(stage.name))
            if stage.name not in selected:
                if not done or done.get("key") != key:
                    raise ConfigError(f"stage {stage.name!r} has no output built with this config (key {key}); "
                                      f"run it first")
                self.outcomes[stage.name] = StageOutcome(stage.name, key, done.get("summary", {}), done.get("wall_s", 0.0), True)
                continue
            i = todo.index(stage)
            label = f"[{i + 1}/{n}] {stage.name}" + (f" ({stage.title})" if stage.title else "")
            if done and done.get("key") == key:
                self.outcomes[stage.name] = StageOutcome(stage.name, key, done.get("summary", {}), done.get("wall_s", 0.0), True)
                self.log(f"{label}: reused from an earlier run (key {key})")
                continue
            folder = self.folder(stage)
            started = self._read(self._marker(stage.name, "started.json"))
            if folder.exists() and (started is None or started.get("key") != key):
                self._set_aside(stage, folder)  # produced under another config: never mix it into this run
            elif folder.exists():
                self.log(f"{label}: resuming an interrupted run")
            self._marker(stage.name).unlink(missing_ok=True)
            write_json(self._marker(stage.name, "started.json"), {"key": key, "config": stage.config})
            folder.mkdir(parents=True, exist_ok=True)
            self.log(f"{label}: starting (estimate {format_seconds(stage.estimate_s)})")
            t0 = time.monotonic()
            summary = stage.run(folder)
            wall = time.monotonic() - t0
            write_json(self._marker(stage.name), {"key": key, "wall_s": round(wall, 2), "summary": summary,
                                                   "config": stage.config, "finished_at": time.time()})
            self.outcomes[stage.name] = StageOutcome(stage.name, key, summary, wall, False)
            if self.on_stage_done is not None:
                self.on_stage_done(self)
            actual[stage.kind] = actual.get(stage.kind, 0.0) + wall
            estimated[stage.kind] = estimated.get(stage.kind, 0.0) + stage.estimate_s
            left = self._time_left(i + 1, actual, estimated)
            self.log(f"{label}: done in {format_seconds(wall)}; elapsed {format_seconds(time.monotonic() - began)}, "
                     f"about {format_seconds(left)} left")
        return self.outcomes

