"""Percentile bootstrap intervals: the one resampling helper behind every 95% interval we report.

Why one helper: the quickstart's "improved / got worse" verdicts (a paired bootstrap over
per-query score differences) and the judge audit's accuracy and kappa intervals (pairs resampled)
are the same procedure: draw `n` resamples of the items with replacement from a seeded generator,
compute a statistic on each, take the 2.5th and 97.5th percentiles (Efron & Tibshirani 1993,
ch. 13). Written once, both callers draw the same indices for the same seed.

    lo, hi = bootstrap_ci95(lambda idx: values[idx].mean(axis=1), len(values), n=2000, seed=0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def bootstrap_ci95(statistic: Callable[[np.ndarray], Any], size: int, n: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of `statistic` over `n` resamples of `size` items.

    `statistic` receives an `(n, size)` array of item indices, each row one resample drawn with
    replacement, and returns the `n` statistic values (vectorised over the rows, or one per row).
    """
    if size < 1:
        raise ValueError(f"cannot resample an empty sample (size {size})")
    idx = np.random.default_rng(seed).integers(0, size, size=(n, size))
    values = np.asarray(statistic(idx), dtype=float)
    lo, hi = np.percentile(values, (2.5, 97.5))
    return float(lo), float(hi)
