"""`reasonembed synth`: the ReMixer stages on the command line.

    reasonembed synth run      --config configs/synth.yaml corpus=docs.jsonl run_dir=runs/x
    reasonembed synth clean    --config configs/synth.yaml [key=value ...] [--corpus PATH] [--out PATH]
    reasonembed synth generate|mine|judge|reason|assemble --config ... [key=value ...] [--in PATH] [--out PATH]
    reasonembed synth stats    --config ... [run_dir=...]
    reasonembed synth audit    --config ... --dataset DIR --out DIR [--judgements FILE]

Every stage is keyed by the config it depends on: re-run with the same config, it is reused or resumes
where it was killed; with a changed config, its stale output is set aside and rebuilt, and so is
everything downstream. A single stage needs its upstream stages done under the current config.
`--in/--out` run the stage function alone on explicit files, outside that bookkeeping. A run whose
every LLM call fails, or whose `train.jsonl` ends up empty, exits 2 with `error: ...`. Overrides are
dotted `key=value` pairs (e.g. `llm.backend=openai llm.model=qwen mine.top_k=5`).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

# which explicit path options a stage accepts: --in maps to this keyword of the stage function
_IN_ARG = {"clean": "corpus", "generate": "corpus", "mine": "queries", "judge": "candidates", "reason": "queries", "assemble": None}

synth_app = typer.Typer(help="ReMixer data synthesis: clean | generate | mine | judge | reason | assemble | run | stats | audit.",
                        no_args_is_help=True)

CONFIG_OPT = typer.Option(None, "--config", "-c", help="Synth YAML config (see configs/synth.yaml).")
OVERRIDES_ARG = typer.Argument(None, help="Config overrides as dotted key=value pairs.")


def _config(config: Path | None, overrides: list[str] | None):
    from reasonembed.config import load_config
    from reasonembed.remixer.config import SynthConfig

    return load_config(SynthConfig, config, overrides or [])


def _require_samples(cfg) -> None:
    """`train.jsonl` with no sample is a failed run, never a success (exit 2 with the counts)."""
    from reasonembed.io import iter_jsonl
    from reasonembed.remixer.common import EmptyOutputError, RunPaths

    path = RunPaths.of(cfg).train
    if path.exists() and next(iter_jsonl(path), None) is None:
        raise EmptyOutputError(f"{path}: assemble produced 0 training samples; `reasonembed synth stats` shows "
                               "where queries and candidates were lost")


def _run_one(stage: str, config: Path | None, overrides: list[str] | None, inp: Path | None, out: Path | None) -> None:
    from reasonembed.io import FolderLock
    from reasonembed.remixer.pipeline import (
        describe_outcome,
        describe_result,
        run_pipeline,
        run_stage,
        stage_llm,
    )

    cfg = _config(config, overrides)
    if inp is None and out is None:  # the run-dir layout: keyed, resumable, upstream checked
        outcomes = run_pipeline(cfg, stages=(stage,), log=lambda m: typer.echo(m, err=True))
        typer.echo(describe_outcome(outcomes[stage]))
    else:  # explicit paths: the stage function alone, outside the keyed run-dir bookkeeping
        kw: dict[str, object] = {"out": out}
        if inp is not None:
            if _IN_ARG[stage] is None:
                raise typer.BadParameter(f"'{stage}' reads everything from run_dir; it takes no --in")
            kw[_IN_ARG[stage]] = inp
        llm = stage_llm(stage, cfg, None)
        try:
            with FolderLock(cfg.run_dir, "synthesis run"):
                typer.echo(describe_result(run_stage(stage, cfg, llm=llm, paths_in=kw)))
        finally:
            if llm is not None:
                llm.close()
    if stage == "assemble" and out is None:
        _require_samples(cfg)


def _make_stage_command(stage: str, help_text: str) -> None:
    def command(
        overrides: list[str] = OVERRIDES_ARG,
        config: Path = CONFIG_OPT,
        inp: Path = typer.Option(None, "--in", help=f"Input file (default: run_dir layout){'' if _IN_ARG[stage] else ' — not used'}."),
        out: Path = typer.Option(None, "--out", help="Output file (default: run_dir layout)."),
    ) -> None:
        _run_one(stage, config, overrides, inp, out)

    command.__doc__ = help_text
    synth_app.command(stage)(command)


for _stage, _help in [
    ("clean", "Length bounds, exact/near-duplicate removal, decontamination, optional LLM domain filter."),
    ("generate", "One conditioned query per sampled source document."),
    ("mine", "Top-k same-domain candidates per query with an embedder (source document removed)."),
    ("judge", "LLM relevance score 1-5 for every (query, candidate) pair."),
    ("reason", "Reasoning-augmented queries q' for Redapter."),
    ("assemble", "Positives (>=3) and hard negatives (1-2) into training samples."),
]:
    _make_stage_command(_stage, _help)


@synth_app.command("run")
def run(overrides: list[str] = OVERRIDES_ARG, config: Path = CONFIG_OPT) -> None:
    """Run every stage in order (reused, resumed or rebuilt by config key), then write stats."""
    from reasonembed.remixer.pipeline import describe_outcome, run_pipeline

    cfg = _config(config, overrides)
    for outcome in run_pipeline(cfg, log=lambda m: typer.echo(m, err=True)).values():
        typer.echo(describe_outcome(outcome))
    stats(overrides, config)
    _require_samples(cfg)


@synth_app.command("stats")
def stats(overrides: list[str] = OVERRIDES_ARG, config: Path = CONFIG_OPT) -> None:
    """Per-stage counts, judge-score histogram (also PNG), pos/neg per query, LLM calls/tokens/failures/retries."""
    from reasonembed.remixer.stats import compute_stats

    result = compute_stats(_config(config, overrides))
    typer.echo(json.dumps(result, indent=2))


@synth_app.command("audit")
def audit(
    overrides: list[str] = OVERRIDES_ARG,
    config: Path = CONFIG_OPT,
    dataset: Path = typer.Option(..., "--dataset", help="BRIGHT-layout folder with gold labels (documents.jsonl, examples.jsonl)."),
    out: Path = typer.Option(..., "--out", help="Folder for pairs, judgements, audit.json and judge_audit.png."),
    judgements: Path = typer.Option(None, "--judgements", help="Score existing judgement records instead of calling the judge."),
    max_queries: int = typer.Option(8, "--max-queries", help="Queries sampled for the audit."),
    pos_per_query: int = typer.Option(1, "--pos-per-query", help="Gold (relevant) documents per query."),
    neg_per_query: int = typer.Option(1, "--neg-per-query", help="Non-gold documents per query."),
    seed: int = typer.Option(0, "--seed", help="Sampling seed."),
) -> None:
    """Audit the judge against gold labels: accuracy, Cohen's kappa, confusion matrix vs chance."""
    from reasonembed.remixer.audit import audit_dataset

    cfg = _config(config, overrides)
    result = audit_dataset(
        cfg, dataset, out, judgements=judgements, max_queries=max_queries,
        pos_per_query=pos_per_query, neg_per_query=neg_per_query, seed=seed,
    )
    typer.echo(result.to_markdown())


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
