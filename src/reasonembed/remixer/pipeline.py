"""Run ReMixer stages from Python, with accounting and timings recorded in the run dir.

    from reasonembed.config import load_config
    from reasonembed.remixer.config import SynthConfig
    from reasonembed.remixer.pipeline import run_pipeline, run_stage
    cfg = load_config(SynthConfig, "configs/synth.yaml", ["corpus=docs.jsonl", "run_dir=runs/x"])
    results = run_pipeline(cfg)               # clean → generate → mine → judge → reason → assemble
    run_stage("judge", cfg, llm=my_llm)       # one stage; LLM/embedder built from cfg when not given

Stage functions (each returns a `StageResult`, skips what its output already holds, and can be
called directly): `clean.run_clean(cfg, corpus=None, out=None, llm=None)`,
`generate.run_generate(cfg, llm)`, `mine.run_mine(cfg, embedder=None)`, `judge.run_judge(cfg, llm)`,
`reason.run_reason(cfg, llm)`, `assemble.run_assemble(cfg)`, `stats.compute_stats(cfg)`.
`run_stage` adds what the CLI wants around them: the stage's LLM calls, tokens, failures and retries
appended to `llm_accounting.jsonl`, its wall time to `timings.jsonl`, the resolved config to
`config.json`.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from reasonembed.config import config_to_dict, provenance_stamp
from reasonembed.errors import ConfigError
from reasonembed.io import write_json
from reasonembed.llm import LLM, build_llm
from reasonembed.remixer.common import RunPaths, StageResult
from reasonembed.remixer.config import SynthConfig

logger = logging.getLogger(__name__)
STAGES = ("clean", "generate", "mine", "judge", "reason", "assemble")
LLM_STAGES = {"generate", "judge", "reason"}


def stage_llm(name: str, config: SynthConfig, llm: LLM | None, judge_llm: LLM | None = None) -> LLM | None:
    """The LLM a stage uses (judge may have its own); built from the config when not given."""
    if name == "judge" and (judge_llm is not None or config.judge_llm is not None):
        return judge_llm or build_llm(config.judge_llm)  # type: ignore[arg-type]
    if name in LLM_STAGES or (name == "clean" and config.clean.domain_filter):
        return llm or build_llm(config.llm)
    return None


def run_stage(name: str, config: SynthConfig, llm: LLM | None = None, embedder: Any | None = None,
              paths_in: dict[str, Any] | None = None) -> StageResult:
    """Run one stage by name; `paths_in` passes explicit input/output paths to the stage function."""
    from reasonembed.remixer import assemble, clean, generate, judge, mine, reason

    if name not in STAGES:
        raise ConfigError(f"unknown stage {name!r}; stages: {list(STAGES)}")
    paths = RunPaths.of(config)
    paths.root.mkdir(parents=True, exist_ok=True)
    write_json(paths.root / "config.json", {"config": config_to_dict(config), **provenance_stamp()})
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
    if llm is not None:
        llm.accounting.dump(paths.accounting, name, llm.model, result.wall_s, since=before)
    with paths.timings.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(result.log_line()) + "\n")
    logger.info("%s done in %.1fs: %s", name, result.wall_s, result.counts)
    return result


def run_pipeline(config: SynthConfig, llm: LLM | None = None, judge_llm: LLM | None = None, embedder: Any | None = None,
                 stages: tuple[str, ...] = STAGES) -> dict[str, StageResult]:
    """Run `stages` in order, sharing one LLM (and one judge LLM) across them; then compute stats."""
    from reasonembed.remixer.stats import compute_stats

    results: dict[str, StageResult] = {}
    for name in stages:
        if name == "reason" and not config.reason.enabled:
            continue
        needs = stage_llm(name, config, llm, judge_llm) if (name in LLM_STAGES or name == "clean") else None
        if name == "judge" and needs is not None and needs is not llm:
            judge_llm = needs
        elif needs is not None:
            llm = needs
        results[name] = run_stage(name, config, llm=needs, embedder=embedder)
    compute_stats(config)
    return results


def describe_result(result: StageResult) -> str:
    return f"{result.stage}: {result.wall_s:.1f}s -> {Path(result.output)} {result.counts}"
