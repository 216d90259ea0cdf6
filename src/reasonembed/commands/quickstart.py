"""`reasonembed quickstart`: the whole ReasonEmbed pipeline on bundled data, with an honest report.

    reasonembed quickstart --out qs                                   # bundled SmolLM2, ~15 min on 2 cores
    reasonembed quickstart --out qs --llm-url http://host:8000/v1 --llm-model Qwen2.5-72B-Instruct
    reasonembed quickstart --out qs --docs 40 --candidates 10 redapter.loss.temperature=0.02

Splits the bundled TheoremQA-Q set by theorem, runs every ReMixer stage on the train part, audits
the judge against gold labels, trains MiniLM with RI-InfoNCE (and, for comparison, on gold pairs),
evaluates everything on unseen theorems, the seen corpus and EntailmentBank, writes DIR/report.md
and an index for `reasonembed serve`. A second run reuses every finished stage.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from reasonembed.quickstart.config import QuickstartConfig


def quickstart_command(
    out: Path = typer.Option(None, "--out", "-o", help="Output folder (re-running reuses finished stages); default quickstart-run."),
    llm_url: str = typer.Option(None, "--llm-url", help="OpenAI-compatible base URL (…/v1); default: the bundled SmolLM2 in process."),
    llm_model: str = typer.Option(None, "--llm-model", help="Model name sent to --llm-url."),
    config: Path = typer.Option(None, "--config", "-c", help="YAML with any QuickstartConfig fields."),
    docs: int = typer.Option(None, "--docs", help="Source documents ReMixer writes queries for (= synth.generate.max_docs_per_domain, default 16)."),
    candidates: int = typer.Option(None, "--candidates", help="Mined candidates judged per query (= synth.mine.top_k, default 6)."),
    audit_queries: int = typer.Option(None, "--audit-queries", help="Queries in the judge audit (default 12)."),
    epochs: int = typer.Option(None, "--epochs", help="Training epochs (default 2)."),
    no_entailmentbank: bool = typer.Option(False, "--no-entailmentbank", help="Skip the EntailmentBank column."),
    overrides: list[str] = typer.Argument(None, help="Config overrides key=value, as every verb takes them: synth.judge.sampling.max_tokens=256 redapter.loss.temperature=0.02 (the flags above win over them)."),
    set_overrides: list[str] = typer.Option(None, "--set", hidden=True, help="Older spelling of an override (--set key=value)."),
) -> None:
    """Run synthesis → judge audit → training → evaluation on bundled data; write DIR/report.md."""
    from reasonembed.config import provenance_stamp
    from reasonembed.io import write_json
    from reasonembed.quickstart.config import quickstart_config_dict
    from reasonembed.quickstart.run import QuickstartRun

    cfg = build_config(config, [*(overrides or []), *(set_overrides or [])], out=out, llm_url=llm_url, llm_model=llm_model, docs=docs,
                       candidates=candidates, audit_queries=audit_queries, epochs=epochs,
                       entailmentbank=False if no_entailmentbank else None)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    write_json(Path(cfg.out) / "quickstart_config.json", {"config": quickstart_config_dict(cfg), **provenance_stamp()})
    run = QuickstartRun(cfg, log=lambda msg: typer.secho(msg, fg=typer.colors.CYAN, err=True))
    outcomes = run.run()
    report = Path(cfg.out) / "report.md"
    typer.echo(f"report: {report}")
    if "index" in outcomes and not outcomes["index"].summary.get("skipped"):
        typer.echo(f"serve the trained model: {outcomes['index'].summary['serve']}")


def build_config(config: Path | None, overrides: list[str] | None, *, out: Path | None = None,
                 llm_url: str | None = None, llm_model: str | None = None, docs: int | None = None,
                 candidates: int | None = None, audit_queries: int | None = None, epochs: int | None = None,
                 entailmentbank: bool | None = None) -> QuickstartConfig:
    """`--config` + `key=value` overrides, then the flags given (set on the typed config, never spelled as override strings)."""
    from reasonembed.errors import ConfigError
    from reasonembed.quickstart.config import load_quickstart_config

    if llm_url and not llm_model:
        raise ConfigError("--llm-url needs --llm-model (the model name the endpoint serves)")
    if llm_model and not llm_url:
        raise ConfigError("--llm-model needs --llm-url (the bundled local model has no name to choose)")
    cfg = load_quickstart_config(config, list(overrides or []))
    if out is not None:
        cfg.out = str(out)
    if llm_url and llm_model:
        cfg.llm = replace(cfg.llm, backend="openai", base_urls=[llm_url], model=llm_model)
    for section, name, value in ((cfg.synth.generate, "max_docs_per_domain", docs), (cfg.synth.mine, "top_k", candidates),
                                 (cfg.audit, "queries", audit_queries), (cfg.eval, "entailmentbank", entailmentbank)):
        if value is not None:
            setattr(section, name, value)
    if epochs is not None:
        cfg.redapter.train = replace(cfg.redapter.train, num_train_epochs=float(epochs))
    return cfg


def register(app: typer.Typer) -> None:
    app.command("quickstart", help=quickstart_command.__doc__)(quickstart_command)
