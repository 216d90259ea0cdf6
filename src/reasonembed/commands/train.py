"""`reasonembed train --config train.yaml key=value ...`: Redapter (RI-InfoNCE) training.

Parse the recipe and overrides -> build the trainer -> train (resuming when asked) -> save the final
sentence-transformers model (LoRA merged) with its resolved config. Launch under `torchrun` or
`accelerate launch` for multi-GPU: the HF Trainer picks the distributed setup up from the environment.
"""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    @app.command(
        "train",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        help="Train an embedder with Redapter (RI-InfoNCE). Extra arguments are overrides: "
        "section.key=value, e.g. loss.name=infonce train.max_steps=100 data.train_files=\\[a.jsonl,b.jsonl].",
    )
    def train(
        ctx: typer.Context,
        config: Path | None = typer.Option(None, "--config", "-c", help="Recipe YAML (see reasonembed/recipes/)."),
        recipe: str | None = typer.Option(None, help="A bundled recipe by name, e.g. minilm-cpu."),
        resume: str | None = typer.Option(
            None, help="Checkpoint folder to resume from, or 'latest' for the newest in train.output_dir."),
        final_dir: Path | None = typer.Option(None, help="Where the final model goes (default: output_dir/final)."),
    ) -> None:
        from reasonembed.errors import ConfigError
        from reasonembed.redapter.config import load_train_config
        from reasonembed.redapter.trainer import build_trainer, resolve_checkpoint

        if recipe and config:
            raise ConfigError("give --config or --recipe, not both")
        if recipe:
            config = Path(__file__).resolve().parents[1] / "recipes" / f"{recipe}.yaml"
            if not config.exists():
                raise ConfigError(f"no bundled recipe {recipe!r} ({config})")
        overrides = list(ctx.args)  # key=value, checked by reasonembed.config.parse_overrides
        cfg = load_train_config(config, overrides)
        checkpoint = resolve_checkpoint(resume, cfg.train.output_dir)  # before the model loads: fail fast
        trainer = build_trainer(cfg)
        trainer.train(resume_from_checkpoint=checkpoint)
        out = final_dir or Path(cfg.train.output_dir or ".") / "final"
        trainer.save_model(str(out))
        if trainer.args.should_save:
            typer.echo(f"saved model to {out}")
