"""The one matplotlib setup for every figure the toolkit writes (report plots, judge audits).

Why: figures are written by headless runs (CI, servers, a terminal over SSH), so matplotlib must use
the non-interactive Agg backend before pyplot is imported, and every figure should look alike
(size, resolution) and be closed after saving (an open figure per plot leaks memory in long runs).

    fig, ax = new_figure()
    ax.plot(steps, losses)
    save_figure(fig, "report/loss.png")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

FIGSIZE = (6.0, 3.5)  # inches: readable side by side in a markdown report
DPI = 110


def pyplot() -> Any:
    """`matplotlib.pyplot` on the Agg backend (imported lazily: matplotlib costs a second to load)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def new_figure(figsize: tuple[float, float] = FIGSIZE) -> tuple[Any, Any]:
    """A figure with one axes, in the house size."""
    return pyplot().subplots(figsize=figsize)


def save_figure(fig: Any, path: str | Path, dpi: int = DPI) -> Path:
    """Lay out, write `path` (creating its folder) and close the figure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return path
