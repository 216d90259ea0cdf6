"""The `reasonembed` command line: one verb per stage.

    reasonembed eval        score a model (or BM25) on BRIGHT-layout datasets
    reasonembed synth ...   ReMixer data synthesis (clean|generate|mine|judge|reason|assemble|run|stats|audit)
    reasonembed train       Redapter training (RI-InfoNCE)
    reasonembed index       encode a corpus into a searchable index
    reasonembed search      query an index
    reasonembed serve       HTTP API (/v1/embeddings, /search) and a search page
    reasonembed quickstart  the whole pipeline on bundled data

Each verb lives in `reasonembed/commands/<verb>.py` and exposes `register(app)`; heavy imports
happen inside the command so `reasonembed --help` stays fast.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys

import typer

from reasonembed import __version__
from reasonembed.errors import ReasonEmbedError

COMMAND_MODULES = ["eval", "synth", "train", "index", "search", "serve", "quickstart"]

app = typer.Typer(
    name="reasonembed",
    help="Build, evaluate and serve reasoning-intensive retrieval embedders (ReasonEmbed).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"reasonembed {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    if not verbose:  # third-party chatter (faiss reports every SIMD build it tries) only with -v
        for name in ("faiss", "faiss.loader", "httpx", "urllib3"):
            logging.getLogger(name).setLevel(logging.WARNING)


def register_commands(target: typer.Typer, names: list[str] = COMMAND_MODULES) -> None:
    """Register every verb; a verb whose module is missing is a broken install and fails loudly."""
    for name in names:
        importlib.import_module(f"reasonembed.commands.{name}").register(target)


register_commands(app)


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        app()
    except ReasonEmbedError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except FileNotFoundError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
