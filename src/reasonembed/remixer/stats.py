"""`synth stats`: what a run produced and what it cost, from the files in its run dir.

Reads every stage output (counts), `clean/report.json` (drops by reason, decontamination per eval
set), `generate/rejected.jsonl` (rejections by reason), judgements (score histogram, nulls, status
ok/followup/unparsable), `assemble/train.jsonl` (positives and negatives per query),
`llm_accounting.jsonl` (calls, tokens, failures, retries, cost per stage) and `timings.jsonl` (wall
time per stage run). Writes `stats/stats.json` and the judge-score histogram
`stats/judge_scores.png` (matplotlib, Agg backend).
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from reasonembed.io import iter_jsonl, write_json
from reasonembed.remixer.common import RunPaths
from reasonembed.remixer.config import SynthConfig


def _count(path: Path) -> int | None:
    return sum(1 for _ in iter_jsonl(path)) if path.exists() else None


def _summary(values: list[int]) -> dict[str, float]:
    if not values:
        return {}
    return {"mean": round(statistics.fmean(values), 3), "median": statistics.median(values), "min": min(values), "max": max(values)}


def plot_histogram(hist: dict[str, int], path: Path) -> Path:
    from reasonembed.plotting import new_figure, save_figure

    labels = ["1", "2", "3", "4", "5", "null"]
    fig, ax = new_figure((5, 3))
    ax.bar(labels, [hist.get(k, 0) for k in labels], color=["#c44"] * 2 + ["#4a4"] * 3 + ["#888"])
    ax.set_xlabel("judge score (null = unparsable)")
    ax.set_ylabel("pairs")
    ax.set_title("ReMixer judge scores")
    return save_figure(fig, path)


def compute_stats(config: SynthConfig, write: bool = True) -> dict[str, Any]:
    paths = RunPaths.of(config)
    stats: dict[str, Any] = {"run_dir": str(paths.root)}
    stats["records"] = {
        "corpus": _count(paths.corpus), "queries": _count(paths.queries), "rejected": _count(paths.rejected),
        "candidates": _count(paths.candidates), "judgements": _count(paths.judgements),
        "reasoning": _count(paths.reasoning), "samples": _count(paths.train),
    }
    if paths.clean_report.exists():
        report = json.loads(paths.clean_report.read_text(encoding="utf-8"))
        stats["clean"] = {"counts": report.get("counts"), "decontamination_by_set": report.get("decontamination_by_set")}
    if paths.rejected.exists():
        stats["rejected_by_reason"] = dict(Counter(r.get("reason") for _, r in iter_jsonl(paths.rejected)))
    if paths.candidates.exists():
        stats["candidates_per_query"] = _summary([len(r["candidates"]) for _, r in iter_jsonl(paths.candidates)])
    hist: Counter[str] = Counter()
    if paths.judgements.exists():
        status: Counter[str] = Counter()
        for _, r in iter_jsonl(paths.judgements):
            hist["null" if r.get("score") is None else str(r["score"])] += 1
            status[r.get("status") or "unknown"] += 1
        stats["judge_scores"] = {k: hist.get(k, 0) for k in ["1", "2", "3", "4", "5", "null"]}
        # ok = score in the first answer, followup = only after the score follow-up, unparsable = null
        stats["judge_status"] = dict(status)
    if paths.train.exists():
        rows = [r for _, r in iter_jsonl(paths.train)]
        stats["positives_per_query"] = _summary([len(r["pos"]) for r in rows])
        stats["negatives_per_query"] = _summary([len(r["neg"]) for r in rows])
        stats["with_reasoning_query"] = sum(1 for r in rows if r.get("reasoning_query"))
    if paths.accounting.exists():
        per_stage: dict[str, Counter] = defaultdict(Counter)
        for _, r in iter_jsonl(paths.accounting):
            for key in ("calls", "ok", "failed", "retries", "prompt_tokens", "completion_tokens", "cost", "wall_s"):
                per_stage[r["stage"]][key] += r.get(key, 0)
        total: Counter = Counter()
        for c in per_stage.values():
            total.update(c)
        stats["llm"] = {"per_stage": {k: dict(v) for k, v in per_stage.items()}, "total": dict(total)}
    if paths.timings.exists():
        wall: Counter = Counter()
        for _, r in iter_jsonl(paths.timings):
            wall[r["stage"]] += r.get("wall_s", 0.0)
        stats["wall_s_per_stage"] = {k: round(v, 2) for k, v in wall.items()}
    if write:
        out = paths.root / "stats"
        if hist:
            stats["histogram_png"] = str(plot_histogram(dict(hist), out / "judge_scores.png"))
        write_json(out / "stats.json", stats)
    return stats
