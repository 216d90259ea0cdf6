"""Write the quickstart's `report.md`: what each stage produced, how good the judge was, and scores.

Why a separate module: the report is the product of the quickstart — a newcomer reads it to learn
whether synthesis, judging and training helped. It must keep three things apart that are easy to
blur: queries of theorems the model never saw (the eval part), queries of the corpus it trained on
(the train part), and another domain (EntailmentBank). Each "improved / did not" sentence comes
from a paired bootstrap over the queries (the difference to the base model, 95% interval), never
from eyeballing two numbers.

Inputs are plain dicts (what the stages saved as JSON), so the report can be rebuilt from a
finished run without recomputing anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.bootstrap import bootstrap_ci95
from reasonembed.plotting import new_figure, save_figure

COLUMNS = {
    "eval": "eval part: unseen theorems",
    "train": "train part: seen corpus",
    "entailmentbank": "EntailmentBank: another domain",
}
# What a row of the results is, so the report picks rows by role and never by display name:
# "base" is the reference every comparison is made against; "base+instruction" and "trained" are compared with it.
ROLES = ("lexical", "base", "base+instruction", "hybrid", "trained")
BASE_MODEL = "minilm"  # the untrained model's id in the evaluation runner


def system_role(model: Any, instructed: bool = False, hybrid_of: Sequence[str] | None = None) -> str:
    """The role of a results row from what it ran: a fusion, BM25, the base model (with or without the task
    instruction), or anything else, i.e. a trained model directory."""
    if hybrid_of:
        return "hybrid"
    if model == "bm25":
        return "lexical"
    if model == BASE_MODEL:
        return "base+instruction" if instructed else "base"
    return "trained"


def with_role(roles: Mapping[str, str], *wanted: str) -> list[str]:
    """Names of the rows whose role is one of `wanted`, in row order; unknown roles are an error."""
    unknown = sorted(set(wanted) - set(ROLES))
    if unknown:
        raise ValueError(f"unknown role(s) {unknown}; valid roles: {list(ROLES)}")
    return [name for name, role in roles.items() if role in wanted]


def paired_difference(a: Mapping[str, float], b: Mapping[str, float], n: int = 2000, seed: int = 0) -> dict[str, float]:
    """Mean of per-query (a - b) over shared queries with a bootstrap 95% interval."""
    shared = sorted(set(a) & set(b))
    if not shared:
        return {"mean": float("nan"), "lo": float("nan"), "hi": float("nan"), "n": 0}
    diff = np.array([a[q] - b[q] for q in shared], dtype=float)
    lo, hi = bootstrap_ci95(lambda idx: diff[idx].mean(axis=1), diff.size, n, seed)
    return {"mean": float(diff.mean()), "lo": lo, "hi": hi, "n": int(diff.size)}


def verdict(diff: Mapping[str, float]) -> str:
    if diff["n"] == 0 or diff["mean"] != diff["mean"]:
        return "not measured"
    if diff["lo"] > 0:
        return "improved"
    if diff["hi"] < 0:
        return "got worse"
    return "no clear change"


def _pct(x: float | None) -> str:
    return "—" if x is None or x != x else f"{100 * x:.1f}"


def score_table(evaluation: Mapping[str, Mapping[str, Mapping[str, Any]]], metric: str = "ndcg@10") -> str:
    """Rows = systems, columns = the three query sets; cells = metric x 100 (metric names of reasonembed.evaluation.metrics)."""
    cols = [c for c in COLUMNS if any(c in per for per in evaluation.values())]
    lines = ["| system | " + " | ".join(COLUMNS[c] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for system, per in evaluation.items():
        cells = [_pct(per.get(c, {}).get("metrics", {}).get(metric)) for c in cols]
        lines.append(f"| {system} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compare(evaluation: Mapping[str, Mapping[str, Mapping[str, Any]]], base: str, systems: Sequence[str],
            metric: str = "ndcg@10") -> list[tuple[str, str, dict[str, float]]]:
    """(system, column, paired difference to `base`) for every system and column both were scored on."""
    out = []
    for system in systems:
        for col in COLUMNS:
            a = evaluation.get(system, {}).get(col, {}).get("per_query", {})
            b = evaluation.get(base, {}).get(col, {}).get("per_query", {})
            if a and b:
                out.append((system, col, paired_difference({q: m[metric] for q, m in a.items()},
                                                           {q: m[metric] for q, m in b.items()})))
    return out


def comparison_sentence(system: str, column: str, d: Mapping[str, float]) -> str:
    return (f"- **{system}** on the {COLUMNS[column]} ({d['n']} queries): {verdict(d)} "
            f"({100 * d['mean']:+.1f} nDCG@10 points, 95% CI {100 * d['lo']:+.1f} … {100 * d['hi']:+.1f}).")


def comparison_table(evaluation: Mapping[str, Mapping[str, Mapping[str, Any]]], base: str, systems: Sequence[str],
                     metric: str = "ndcg@10") -> tuple[str, list[str]]:
    """Per system and column: difference to `base` (points) with 95% CI and a verdict; plus sentences."""
    lines = ["| system | query set | Δ nDCG@10 vs " + base + " | 95% CI | verdict |", "|---|---|---|---|---|"]
    sentences = []
    for system, col, d in compare(evaluation, base, systems, metric):
        lines.append(f"| {system} | {COLUMNS[col]} | {100 * d['mean']:+.1f} | {100 * d['lo']:+.1f} … {100 * d['hi']:+.1f} "
                     f"| {verdict(d)} |")
        sentences.append(comparison_sentence(system, col, d))
    return "\n".join(lines), sentences


def plot_loss_curves(curves: Mapping[str, Sequence[tuple[float, float]]], path: str | Path) -> Path | None:
    """Training loss against optimizer step, one line per trained model."""
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
    """Overlaid histograms of per-sample reasoning intensities, one per model (RI > 1: q' helps)."""
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


def stage_table(stages: Sequence[Mapping[str, Any]]) -> str:
    """Wall time per stage; a reused stage shows the time it took when it ran."""
    lines = ["| stage | wall time (s) | this run |", "|---|---|---|"]
    this_run = sum(s["wall_s"] for s in stages if not s["reused"])
    for s in stages:
        lines.append(f"| {s['name']} | {s['wall_s']:.1f} | {'reused' if s['reused'] else 'ran'} |")
    lines.append(f"| **all stages** | {sum(s['wall_s'] for s in stages):.1f} | {this_run:.1f} s in this run |")
    return "\n".join(lines)


def render_report(sections: Sequence[tuple[str, str]], title: str = "reasonembed quickstart report") -> str:
    parts = [f"# {title}", ""]
    for heading, body in sections:
        parts += [f"## {heading}", "", body.rstrip(), ""]
    return "\n".join(parts)
