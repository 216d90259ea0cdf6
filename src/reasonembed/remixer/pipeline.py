"""ReMixer's six stages, defined once, for `reasonembed synth`, the quickstart and Python callers.

    from reasonembed.config import load_config
    from reasonembed.remixer.config import SynthConfig
    from reasonembed.remixer.pipeline import run_pipeline
    cfg = load_config(SynthConfig, "configs/synth.yaml", ["corpus=docs.jsonl", "run_dir=runs/x"])
    outcomes = run_pipeline(cfg)                   # clean → generate → mine → judge → reason → assemble
    run_pipeline(cfg, stages=("judge",))           # one stage; its upstream must be done under this config

`synth_stages(config, ...)` returns the stages as `reasonembed.stages.Stage`s for the one orchestrator
(`reasonembed.stages.Pipeline`); the quickstart puts them into its own pipeline. Each stage's key is
the hash of the config fields its output depends on plus the keys of its inputs:

| stage    | keyed on                                                                        |
|----------|---------------------------------------------------------------------------------|
| clean    | clean.*, domain(s), corpus content, decontamination sets' content, LLM identity if domain_filter |
| generate | LLM identity (backend, model, local_model), generate.*, seed, prompt version, clean |
| mine     | mine.*, generate, clean (the candidate pool is the whole corpus minus decontaminated ids) |
| judge    | judge LLM identity, judge.*, judge prompt version, mine                          |
| reason   | LLM identity, reason.*, generate                                                 |
| assemble | assemble.*, seed, judge, reason                                                  |

Endpoints, concurrency, timeouts and retries are not part of any key: they change how fast, not what.
A changed key sets the stage's stale folder aside and rebuilds it and everything downstream; an
unchanged key resumes a killed stage where it stopped. `run_dir/config.json` lists, per stage, the
key and config its output was built with (from the done-markers in `run_dir/.stages/`), so it never
describes data that was not built with it. `run_pipeline` holds `FolderLock(run_dir)`: a second run
on the same folder is refused.

`run_stage(name, config, ...)` runs one stage function without keys (the CLI's `--in/--out` path) and
appends the stage's LLM calls, tokens, failures and retries to `llm_accounting.jsonl` and its wall
time to `timings.jsonl`.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from reasonembed.config import provenance_stamp
from reasonembed.errors import ConfigError
from reasonembed.io import FolderLock, write_json
from reasonembed.llm import LLM, build_llm
from reasonembed.llm.base import LLMUnavailableError
from reasonembed.llm.config import LLMConfig
from reasonembed.remixer.common import RunPaths, StageResult
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.prompts import JUDGE_PROMPT_VERSION, PROMPT_VERSION, REASON_PROMPT_VERSION
from reasonembed.stages import Pipeline, Stage, StageOutcome

logger = logging.getLogger(__name__)
STAGES = ("clean", "generate", "mine", "judge", "reason", "assemble")
LLM_STAGES = {"generate", "judge", "reason"}
TITLES = {"clean": "ReMixer clean + decontaminate", "generate": "ReMixer: write queries",
          "mine": "ReMixer: mine candidates", "judge": "ReMixer: judge pairs", "reason": "ReMixer: q' reasoning",
          "assemble": "ReMixer: assemble samples"}


def llm_identity(config: LLMConfig) -> dict[str, Any]:
    """What decides an LLM's answers (not where it is served or how fast)."""
    ident: dict[str, Any] = {"backend": config.backend, "model": config.model, "local_model": config.local_model}
    if config.backend == "local":
        ident["dtype"] = config.dtype
    return ident


def stage_llm(name: str, config: SynthConfig, llm: LLM | None, judge_llm: LLM | None = None) -> LLM | None:
    """The LLM a stage uses (judge may have its own); built from the config when not given."""
    if name == "judge" and (judge_llm is not None or config.judge_llm is not None):
        return judge_llm or build_llm(config.judge_llm)  # type: ignore[arg-type]
    if name in LLM_STAGES or (name == "clean" and config.clean.domain_filter):
        return llm or build_llm(config.llm)
    return None


class LazyLLMs:
    """Builds the LLM (and a separate judge LLM) on first use, so a fully reused run never loads one.

    `llm` / `judge_llm` are providers the caller owns (never closed here); otherwise the LLM is built
    from the config and `close()` closes it.
    """

    def __init__(self, config: SynthConfig, llm: Callable[[], LLM] | None = None,
                 judge_llm: Callable[[], LLM] | None = None):
        self.config = config
        self._given = {"llm": llm, "judge": judge_llm}
        self._built: dict[str, LLM] = {}

    def get(self, which: str) -> LLM:
        if which == "judge" and self._given["judge"] is None and self.config.judge_llm is None:
            which = "llm"
        if which not in self._built:
            given = self._given[which]
            if given is not None:
                self._built[which] = given()
            else:
                self._built[which] = build_llm(self.config.judge_llm if which == "judge" else self.config.llm)  # type: ignore[arg-type]
        return self._built[which]

    def for_stage(self, name: str) -> LLM | None:
        if name == "judge":
            return self.get("judge")
        if name in LLM_STAGES or (name == "clean" and self.config.clean.domain_filter):
            return self.get("llm")
        return None

    def close(self) -> None:
        for which, llm in self._built.items():
            if self._given[which] is None:
                llm.close()
        self._built.clear()


def stage_configs(config: SynthConfig) -> dict[str, dict[str, Any]]:
    """Per stage, the config fields its output depends on (see the table above)."""
    llm_id = llm_identity(config.llm)
    domains = {"domain": config.domain, "custom_domains": [asdict(d) for d in config.custom_domains]}
    clean: dict[str, Any] = {"clean": asdict(config.clean), **domains}
    if config.clean.domain_filter:
        clean["llm"] = llm_id
    return {
        "clean": clean,
        "generate": {"llm": llm_id, "generate": asdict(config.generate), "seed": config.seed,
                     "prompt_version": PROMPT_VERSION, **domains},
        "mine": {"mine": asdict(config.mine)},
        "judge": {"llm": llm_identity(config.judge_llm or config.llm), "judge": asdict(config.judge),
                  "prompt_version": JUDGE_PROMPT_VERSION, **domains},
        "reason": {"llm": llm_id, "reason": asdict(config.reason), "prompt_version": REASON_PROMPT_VERSION},
        "assemble": {"assemble": asdict(config.assemble), "reason_enabled": config.reason.enabled,
                     "seed": config.seed},
    }


def synth_stages(config: SynthConfig, llms: LazyLLMs | None = None, embedder: Any | None = None, prefix: str = "",
                 after: list[str] | None = None, estimates: dict[str, float] | None = None) -> list[Stage]:
    """The six ReMixer stages (five when `reason.enabled` is off) as orchestrator stages.

    `prefix` names them inside a bigger pipeline (the quickstart uses "synth_"), `after` lists stages
    of that pipeline the first one depends on, `estimates` gives a-priori seconds per stage name.
    """
    llms = llms or LazyLLMs(config)
    run_dir = Path(config.run_dir).resolve()
    configs = stage_configs(config)
    depends = {"clean": [], "generate": ["clean"], "mine": ["clean", "generate"], "judge": ["mine"],
               "reason": ["generate"], "assemble": ["judge", "reason"] if config.reason.enabled else ["judge"]}
    default_estimates = {"clean": 3.0, "generate": 60.0, "mine": 15.0, "judge": 120.0, "reason": 60.0, "assemble": 1.0}
    estimates = {**default_estimates, **(estimates or {})}
    inputs = {"clean": [config.corpus, *config.clean.decontaminate] if config.corpus else list(config.clean.decontaminate)}

    def runner(name: str) -> Callable[[Path], dict[str, Any]]:
        def run(folder: Path) -> dict[str, Any]:
            result = run_stage(name, config, llm=llms.for_stage(name), embedder=embedder)
            return {"counts": result.counts, "output": str(result.output), "wall_s": round(result.wall_s, 2)}
        return run

    stages = []
    for name in STAGES:
        if name == "reason" and not config.reason.enabled:
            continue
        deps = [prefix + d for d in depends[name]] + (list(after or []) if name == "clean" else [])
        stages.append(Stage(prefix + name, runner(name), configs[name], deps, estimates[name],
                            "llm" if name in LLM_STAGES else "cpu", TITLES[name], str(run_dir / name),
                            inputs.get(name, [])))
    return stages


def write_run_config(pipeline: Pipeline) -> None:
    """`run_dir/config.json`: per finished stage, the key and config its output was built with."""
    stages = {name: {"key": m.get("key"), "config": m.get("config")} for name, m in pipeline.done_markers().items()}
    write_json(pipeline.root / "config.json", {"stages": stages, **provenance_stamp()})


def run_stage(name: str, config: SynthConfig, llm: LLM | None = None, embedder: Any | None = None,
              paths_in: dict[str, Any] | None = None) -> StageResult:
    """Run one stage function by name (no keys); `paths_in` passes explicit input/output paths."""
    from reasonembed.remixer import assemble, clean, generate, judge, mine, reason

    if name not in STAGES:
        raise ConfigError(f"unknown stage {name!r}; stages: {list(STAGES)}")
    paths = RunPaths.of(config)
    paths.root.mkdir(parents=True, exist_ok=True)
    kw = {k: v for k, v in (paths_in or {}).items() if v is not None}
    if llm is None:
        llm = stage_llm(name, config, None)
    before = llm.accounting.snapshot() if llm is not None else None
    if name == "clean":
        result = clean.run_clean(config, llm=llm, **kw)
    elif name == "generate":
        result = generate.run_generate(config, llm, **kw)  # type: ignore[arg-type]
    elif name == "mine":
        result = mine.run_mine(config, embedder, **kw)
    elif name == "judge":
        result = judge.run_judge(config, llm, **kw)  # type: ignore[arg-type]
    elif name == "reason":
        result = reason.run_reason(config, llm, **kw)  # type: ignore[arg-type]
    else:
        result = assemble.run_assemble(config, **kw)
    with paths.timings.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(result.log_line()) + "\n")
    if llm is not None:
        line = llm.accounting.dump(paths.accounting, name, llm.model, result.wall_s, since=before)
        if line["calls"] and not line["ok"]:
            raise LLMUnavailableError(f"{name}: all {line['calls']} LLM requests failed ({line['errors']}) and "
                                      f"nothing was written; check llm.base_urls, llm.model and the API key")
    logger.info("%s done in %.1fs: %s", name, result.wall_s, result.counts)
    return result


def run_pipeline(config: SynthConfig, llm: LLM | None = None, judge_llm: LLM | None = None, embedder: Any | None = None,
                 stages: tuple[str, ...] = STAGES, log: Callable[[str], None] | None = None) -> dict[str, StageOutcome]:
    """Run `stages` under the run-dir lock, keyed (reuse / resume / rebuild), then compute stats."""
    from reasonembed.remixer.stats import compute_stats

    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage(s) {unknown}; stages: {list(STAGES)}")
    if "reason" in stages and not config.reason.enabled:
        raise ConfigError("reason.enabled is false: there is no reason stage to run")
    llms = LazyLLMs(config, (lambda: llm) if llm is not None else None, (lambda: judge_llm) if judge_llm is not None else None)
    root = Path(config.run_dir)
    try:
        with FolderLock(root, "synthesis run"):
            pipeline = Pipeline(root, synth_stages(config, llms, embedder), log=log or logger.info,
                                version_in_key=False, on_stage_done=write_run_config)
            outcomes = pipeline.run(only=[s for s in stages if s != "reason" or config.reason.enabled])
            compute_stats(config)
    finally:
        llms.close()
    return {name: outcomes[name] for name in STAGES if name in stages and name in outcomes}


def describe_outcome(outcome: StageOutcome) -> str:
    s = outcome.summary
    how = "reused" if outcome.reused else f"{s.get('wall_s', outcome.wall_s):.1f}s"
    return f"{outcome.name}: {how} -> {s.get('output', '')} {s.get('counts', {})}"


def describe_result(result: StageResult) -> str:
    return f"{result.stage}: {result.wall_s:.1f}s -> {Path(result.output)} {result.counts}"
