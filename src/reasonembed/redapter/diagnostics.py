"""What a Redapter run looked like: per-sample reasoning intensity and the figures of training.

Why: the trainer logs only per-step RI aggregates (min/median/mean/max of the batch), which hide
how many samples the reasoning query q' actually helps. `per_sample_ri` recomputes
RI_i = min(L_i / L'_i, kappa) for every sample with a given model — one group of `group_size`
passages each, batches of `batch_size` as in training, in-batch negatives — through
`RIInfoNCELoss.reasoning_intensity`, the formula's one home. Comparing the base model with the
trained one shows whether training moved the distribution.

    ri = per_sample_ri(Embedder("runs/x/model"), samples, group_size=4, batch_size=8, temperature=0.02, kappa=5)
    plot_ri({"trained": ri}, "ri.png", kappa=5)
    plot_loss_curves({"RI-InfoNCE": loss_curve(trainer.state.log_history)}, "loss.png")
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.plotting import new_figure, save_figure


def per_sample_ri(model: Any, samples: list[dict[str, Any]], group_size: int, batch_size: int,
                  temperature: float, kappa: float, seed: int = 0) -> list[float]:
    """RI of every sample (TrainingSample records) that has a reasoning query, with `model`
    (an Embedder, a model dir, or None for the bundled model)."""
    import torch

    from reasonembed.embedder import Embedder
    from reasonembed.losses import RIInfoNCELoss
    from reasonembed.losses.infonce import infonce_per_sample
    from reasonembed.records import TrainingSample
    from reasonembed.redapter.data import sample_group

    embedder = model if isinstance(model, Embedder) else Embedder(None if model is None else str(model))
    ri_loss = RIInfoNCELoss(embedder, temperature, kappa=kappa, warmup_steps=0)
    usable = [TrainingSample.model_validate(s) for s in samples if s.get("reasoning_query")]
    rng = random.Random(seed)
    values: list[float] = []
    for start in range(0, len(usable), max(1, batch_size)):
        chunk = usable[start:start + batch_size]
        passages = [p for s in chunk for p in sample_group(s, group_size, rng)]
        q = torch.from_numpy(embedder.encode([embedder.format_query(s.query, s.prompt) for s in chunk],
                                             embedder.max_query_length))
        q2 = torch.from_numpy(embedder.encode([embedder.format_query(s.reasoning_query or s.query, s.prompt)
                                               for s in chunk], embedder.max_query_length))
        p = torch.from_numpy(embedder.encode_documents(passages))
        labels = torch.arange(len(chunk)) * group_size
        losses = infonce_per_sample(q, p, labels, temperature)
        reasoning = infonce_per_sample(q2, p, labels, temperature)
        values.extend(ri_loss.reasoning_intensity(losses, reasoning).tolist())
    return values


def training_history(log_history: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """From HF `trainer.state.log_history`: the loss curve, the unweighted InfoNCE curve and per-step RI stats."""
    steps = [h for h in log_history if "loss" in h and "step" in h]
    return {
        "loss_curve": [[h["step"], h["loss"]] for h in steps],
        "infonce_curve": [[h["step"], h["infonce"]] for h in steps if "infonce" in h],
        "ri_steps": [{k: h[k] for k in ("step", "ri_min", "ri_median", "ri_mean", "ri_max") if k in h}
                     for h in steps if "ri_mean" in h],
    }


def plot_loss_curves(curves: Mapping[str, Sequence[tuple[float, float]]], path: str | Path) -> Path | None:
    """Training loss against optimizer step, one line per run; None when there is nothing to draw."""
    curves = {k: v for k, v in curves.items() if v}
    if not curves:
        return None
    fig, ax = new_figure()
    for name, points in curves.items():
        steps, losses = zip(*points, strict=True)
        ax.plot(steps, losses, marker="o", markersize=3, label=name)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss")
    ax.set_title("Training loss")
    ax.legend()
    return save_figure(fig, path)


def plot_ri(values: Mapping[str, Sequence[float]], path: str | Path, kappa: float | None = None,
            title: str = "Reasoning intensity RI = min(L/L', kappa) per sample") -> Path | None:
    """Overlaid histograms of per-sample RI, one per model (RI > 1: q' helps); None when all are empty."""
    values = {k: [v for v in vs if v == v] for k, vs in values.items()}
    values = {k: vs for k, vs in values.items() if vs}
    if not values:
        return None
    fig, ax = new_figure()
    top = max(max(vs) for vs in values.values())
    bins = np.linspace(0.0, max(top, 1.0) * 1.05, 25)
    for name, vs in values.items():
        ax.hist(vs, bins=bins, alpha=0.55, label=f"{name} (n={len(vs)})")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    if kappa is not None and kappa <= bins[-1]:
        ax.axvline(kappa, color="tab:red", linestyle=":", linewidth=1)
    ax.set_xlabel("RI (dashed: 1 = q' no help; dotted: cap kappa)")
    ax.set_ylabel("samples")
    ax.set_title(title, fontsize=9)
    ax.legend()
    return save_figure(fig, path)
