"""Run named stages in order, with progress, a time-left estimate and reuse of finished stages.

Why: the quickstart chains nine stages, some taking minutes (LLM calls on a CPU). A newcomer must
see where it is and how long is left, and a second run (after a crash, a Ctrl-C, or just to
regenerate the report) must not redo what is finished.

* Each stage owns a folder (`ROOT/<name>/` unless it names another) and declares the config its output depends on. Its
  key is a hash of that config, the package version and the keys of the stages it depends on, so
  a change upstream invalidates everything downstream.
* When a stage finishes, `ROOT/.stages/<name>.json` records its key, wall time and summary
  (the done-marker). A later run with the same key skips it and reuses the summary.
* A stage that started but did not finish keeps its folder when the key is unchanged: the
  stages write with resumable JSONL writers, so the rerun continues where it was killed. When the
  key changed, the stale folder is removed before the stage runs again.
* Time left: every stage brings an a-priori estimate (seconds on 2 CPU cores); after each stage
  the estimates of the remaining stages of the same kind ("llm", "cpu") are rescaled by how far
  off the finished ones were.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonembed import __version__
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
    folder: str | None = None  # relative to the pipeline root; default: the stage name


@dataclass
class StageOutcome:
    name: str
    key: str
    summary: dict[str, Any]
    wall_s: float
    reused: bool


def _key(config: dict[str, Any], upstream: list[str]) -> str:
    blob = json.dumps({"config": config, "upstream": upstream, "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Pipeline:
    def __init__(self, root: str | Path, stages: list[Stage], log: Callable[[str], None] | None = None):
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
        self.marks = self.root / ".stages"
        self.outcomes: dict[str, StageOutcome] = {}

    def folder(self, stage: Stage) -> Path:
        return self.root / (stage.folder or stage.name)

    def _marker(self, name: str, suffix: str = "json") -> Path:
        return self.marks / f"{name}.{suffix}"

    def _read(self, path: Path) -> dict[str, Any] | None:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None

    def _time_left(self, start: int, actual: dict[str, float], estimated: dict[str, float]) -> float:
        """Remaining estimates, each rescaled by actual/estimated of its kind once that kind has had
        at least MIN_CALIBRATION_S of estimated work (tiny stages say little about big ones)."""
        left = 0.0
        for stage in self.stages[start:]:
            est = estimated.get(stage.kind, 0.0)
            ratio = actual[stage.kind] / est if est >= MIN_CALIBRATION_S else 1.0
            left += stage.estimate_s * ratio
        return left

    def run(self) -> dict[str, StageOutcome]:
        self.root.mkdir(parents=True, exist_ok=True)
        self.marks.mkdir(parents=True, exist_ok=True)
        actual: dict[str, float] = {}
        estimated: dict[str, float] = {}
        n = len(self.stages)
        began = time.monotonic()
        self.log(f"{n} stages, about {format_seconds(sum(s.estimate_s for s in self.stages))} estimated in all")
        for i, stage in enumerate(self.stages):
            key = _key(stage.config, [self.outcomes[d].key for d in stage.depends])
            done = self._read(self._marker(stage.name))
            label = f"[{i + 1}/{n}] {stage.name}" + (f" ({stage.title})" if stage.title else "")
            if done and done.get("key") == key:
                self.outcomes[stage.name] = StageOutcome(stage.name, key, done.get("summary", {}), done.get("wall_s", 0.0), True)
                self.log(f"{label}: reused from an earlier run (key {key})")
                continue
            folder = self.folder(stage)
            started = self._read(self._marker(stage.name, "started.json"))
            if folder.exists() and (started is None or started.get("key") != key):
                shutil.rmtree(folder)  # produced under another config: never mix it into this run
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
            actual[stage.kind] = actual.get(stage.kind, 0.0) + wall
            estimated[stage.kind] = estimated.get(stage.kind, 0.0) + stage.estimate_s
            left = self._time_left(i + 1, actual, estimated)
            self.log(f"{label}: done in {format_seconds(wall)}; elapsed {format_seconds(time.monotonic() - began)}, "
                     f"about {format_seconds(left)} left")
        return self.outcomes
