"""Training diagnostics: per-sample RI against a direct computation, the log-history curves, the figures."""

from __future__ import annotations

import numpy as np
import pytest

from reasonembed.redapter.diagnostics import per_sample_ri, plot_loss_curves, plot_ri, training_history


def _per_sample_infonce(q: np.ndarray, p: np.ndarray, labels: np.ndarray, temperature: float) -> np.ndarray:
    logits = q.astype(np.float64) @ p.astype(np.float64).T / temperature
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return log_z - logits[np.arange(len(q)), labels]


def test_per_sample_ri_equals_min_of_loss_ratio_and_kappa(minilm_embedder):
    # one positive and exactly group_size-1 negatives: the group's content does not depend on the rng
    samples = [{"prompt": "Find the theorem.", "query": f"question {i} on {t}", "domain": "math",
                "reasoning_query": f"question {i} on {t}; it needs the {t} theorem",
                "pos": [f"the {t} theorem states a fact"], "neg": [f"a note on topic {i}-{k}" for k in range(2)]}
               for i, t in enumerate(["mean value", "pythagoras", "bayes", "fermat", "green"])]
    samples.append({**samples[0], "reasoning_query": None})  # no q': not measured
    kappa, temperature, batch = 1.5, 0.5, 2  # a warm temperature: losses far from 0, ratios well defined
    got = per_sample_ri(minilm_embedder, samples, group_size=3, batch_size=batch, temperature=temperature, kappa=kappa)
    assert len(got) == 5

    e = minilm_embedder
    expected = []
    for start in range(0, 5, batch):
        chunk = samples[:5][start:start + batch]
        q = e.encode([e.format_query(s["query"], s["prompt"]) for s in chunk], e.max_query_length)
        q2 = e.encode([e.format_query(s["reasoning_query"], s["prompt"]) for s in chunk], e.max_query_length)
        p = e.encode_documents([x for s in chunk for x in [s["pos"][0], *s["neg"]]])
        labels = np.arange(len(chunk)) * 3
        loss, reasoning = (_per_sample_infonce(x, p, labels, temperature) for x in (q, q2))
        expected.extend(np.minimum(loss / reasoning, kappa))
    assert got == pytest.approx(expected, rel=1e-4)
    assert max(got) <= kappa and len(set(got)) == 5 and min(got) < 1 < max(got)  # not all capped, not all equal


def test_training_history_reads_the_trainer_log():
    log = [{"loss": 2.0, "step": 1, "infonce": 1.9, "ri_mean": 1.2, "ri_min": 0.5, "epoch": 0.5},
           {"loss": 1.5, "step": 2}, {"train_runtime": 3.0, "step": 2}]
    h = training_history(log)
    assert h["loss_curve"] == [[1, 2.0], [2, 1.5]] and h["infonce_curve"] == [[1, 1.9]]
    assert h["ri_steps"] == [{"step": 1, "ri_min": 0.5, "ri_mean": 1.2}]


def test_plots_write_pngs(tmp_path):
    assert plot_loss_curves({"a": [(1, 2.0), (2, 1.5)]}, tmp_path / "l.png").read_bytes()[:4] == b"\x89PNG"
    assert plot_ri({"base": [0.5, 1.2, 5.0], "trained": [1.0]}, tmp_path / "r.png", kappa=5).exists()
    assert plot_loss_curves({}, tmp_path / "none.png") is None and plot_ri({"x": []}, tmp_path / "n.png") is None
