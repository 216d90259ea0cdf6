"""The one bootstrap helper, and the intervals of its two callers (report verdicts, judge audit)."""

from __future__ import annotations

import numpy as np
import pytest

from reasonembed.bootstrap import bootstrap_ci95
from reasonembed.evaluation.compare import paired_difference
from reasonembed.remixer.audit import AuditPair, audit_judgements


def test_interval_of_a_constant_is_the_constant_and_empty_samples_are_refused():
    values = np.full(7, 0.25)
    assert bootstrap_ci95(lambda idx: values[idx].mean(axis=1), values.size, n=50) == (0.25, 0.25)
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci95(lambda idx: idx.mean(axis=1), 0)


def test_interval_brackets_the_mean_and_depends_on_the_seed():
    values = np.arange(40, dtype=float)
    lo, hi = bootstrap_ci95(lambda idx: values[idx].mean(axis=1), values.size, n=500, seed=1)
    assert lo < values.mean() < hi and hi - lo < 20
    assert bootstrap_ci95(lambda idx: values[idx].mean(axis=1), values.size, n=500, seed=2) != (lo, hi)
    # a per-row statistic (a list, one value per resample) gives the same interval as the vectorised one
    assert bootstrap_ci95(lambda idx: [values[i].mean() for i in idx], values.size, n=500, seed=1) == (lo, hi)


def test_callers_keep_their_seeded_intervals():
    """Values recorded from the two hand-written bootstraps this helper replaced (same seeds, same draws)."""
    a = {f"q{i}": (i * 37 % 11) / 10 for i in range(25)}
    b = {f"q{i}": (i * 13 % 7) / 10 for i in range(25)}
    d = paired_difference(a, b)
    assert d["n"] == 25 and d["mean"] == pytest.approx(0.176)
    assert (d["lo"], d["hi"]) == pytest.approx((0.04, 0.316), abs=1e-12)

    pairs = [AuditPair(f"q{i}", f"d{i}", i % 3 == 0) for i in range(20)]
    judged = [{"query_id": f"q{i}", "doc_id": f"d{i}", "score": (i * 7) % 5 + 1} for i in range(20)]
    result = audit_judgements(judged, pairs, 3, seed=4)
    assert result.accuracy_ci == pytest.approx((0.15, 0.55), abs=1e-12)
    assert result.kappa_ci == pytest.approx((-0.6, 0.15094339622641523), abs=1e-12)
