"""`reasonembed quickstart`: the whole ReasonEmbed pipeline on bundled data, with an honest report.

    reasonembed quickstart --out qs                                   # bundled SmolLM2, ~15 min on 2 cores
    reasonembed quickstart --out qs --llm-url http://host:8000/v1 --llm-model Qwen2.5-72B-Instruct
    reasonembed quickstart --out qs --docs 40 --candidates 10 --set redapter.loss.temperature=0.02

Splits the bundled TheoremQA-Q set by theorem, runs every ReMixer stage on the train part, audits
the judge against gold labels, trains MiniLM with RI-InfoNCE (and, for comparison, on gold pairs),
evaluates everything on unseen theorems, the seen corpus and EntailmentBank, writes DIR/report.md
and an index for `reasonembed serve`. A second run reuses every finished stage.
"""

from __future__ import annotations

from pathlib import Path

import typer


def quickstart_command(
    out: Path = typer.Option(Path("quickstart-run"), "--out", "-o", help="Output folder (re-running reuses finished stages)."),
    llm_url: str = typer.Option(None, "--llm-url", help="OpenAI-compatible base URL (…/v1); default: the bundled SmolLM2 in process."),
    llm_model: str = typer.Option(None, "--llm-model", help="Model name sent to --llm-url."),
    config: Path = typer.Option(None, "--config", "-c", help="YAML with any QuickstartConfig fields."),
    docs: int = typer.Option(None, "--docs", help="Source documents ReMixer writes queries for (default 16)."),
    candidates: int = typer.Option(None, "--candidates", help="Mined candidates judged per query (default 6)."),
    audit_queries: int = typer.Option(None, "--audit-queries", help="Queries in the judge audit (default 12)."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs (default 2)."),
    no_entailmentbank: bool = typer.Option(False, "--no-entailmentbank", help="Skip the EntailmentBank column."),
    overrides: list[str] = typer.Option(None, "--set", help="Any config field: --set synth.judge_tokens=256, --set redapter.loss.temperature=0.02 (repeatable)."),
) -> None:
    """Run synthesis → judge audit → training → evaluation on bundled data; write DIR/report.md."""
    from reasonembed.config import provenance_stamp
    from reasonembed.errors import ConfigError
    from reasonembed.io import write_json
    from reasonembed.quickstart.config import load_quickstart_config, quickstart_config_dict
    from reasonembed.quickstart.run import QuickstartRun

    sets = [f"out={out}"]
    if llm_url:
        sets += ["llm.backend=openai", f"llm.base_urls=['{llm_url}']"]
        if not llm_model:
            raise ConfigError("--llm-url needs --llm-model (the model name the endpoint serves)")
    if llm_model:
        if not llm_url:
            raise ConfigError("--llm-model needs --llm-url (the bundled local model has no name to choose)")
        sets.append(f"llm.model={llm_model}")
    for flag, key in ((docs, "synth.docs"), (candidates, "synth.candidates"), (audit_queries, "audit.queries"),
                      (epochs, "redapter.train.num_train_epochs")):
        if flag is not None:
            sets.append(f"{key}={flag}")
    if no_entailmentbank:
        sets.append("eval.entailmentbank=false")
    cfg = load_quickstart_config(config, sets + list(overrides or []))
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    write_json(Path(cfg.out) / "quickstart_config.json", {"config": quickstart_config_dict(cfg), **provenance_stamp()})
    run = QuickstartRun(cfg, log=lambda msg: typer.secho(msg, fg=typer.colors.CYAN, err=True))
    outcomes = run.run()
    report = Path(cfg.out) / "report.md"
    typer.echo(f"report: {report}")
    if "index" in outcomes and not outcomes["index"].summary.get("skipped"):
        typer.echo(f"serve the trained model: {outcomes['index'].summary['serve']}")


def register(app: typer.Typer) -> None:
    app.command("quickstart", help=quickstart_command.__doc__)(quickstart_command)
