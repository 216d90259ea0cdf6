"""reasonembed: an end-to-end toolkit for reasoning-intensive retrieval embedders.

ReMixer data synthesis -> Redapter (RI-InfoNCE) training -> BRIGHT-faithful evaluation ->
index, search and serve. Implements ReasonEmbed (Chen et al. 2025, arXiv 2510.08252).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
