"""Write an evaluation's artefacts: results.json, results.md and one TREC run file per task.

Why these three: results.json is the machine-readable record (every metric per task and per
query, plus the manifest that says exactly what was run); results.md is what a person pastes
into a README, ending with a one-line leaderboard row (system, dataset, query variant, average
nDCG@10, then each task's) ready to paste under a leaderboard header; the TREC runs let anyone
re-score with trec_eval, another harness or `reasonembed eval --rescore`. Run files carry
full-precision scores in rank order (score desc, docid desc), so re-scoring them gives the same
numbers. Every file is written atomically (`io.atomic_open`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasonembed.io import atomic_open, atomic_write, write_json
from reasonembed.retrieval.base import Hit

TABLE_METRICS = [
    "ndcg@1",
    "ndcg@5",
    "ndcg@10",
    "ndcg@25",
    "ndcg@50",
    "ndcg@100",
    "recall@10",
    "recall@100",
    "p@10",
    "map",
    "map@100",
    "mrr",
]


def trec_lines(run: Mapping[str, Sequence[Hit]], tag: str) -> list[str]:
    """`qid Q0 docid rank score tag`, ranks from 1, scores as round-trippable floats."""
    lines = []
    for qid, hits in run.items():
        for rank, hit in enumerate(hits, start=1):
            lines.append(f"{qid} Q0 {hit.docid} {rank} {float(hit.score)!r} {tag}")
    return lines


def write_trec_run(path: str | Path, run: Mapping[str, Sequence[Hit]], tag: str = "reasonembed") -> Path:
    path = Path(path)
    with atomic_open(path, "w") as handle:
        for line in trec_lines(run, tag):
            handle.write(line + "\n")
    return path


def read_trec_run(path: str | Path) -> dict[str, dict[str, float]]:
    """{qid: {docid: score}} from a TREC run file (for re-scoring)."""
    from reasonembed.errors import RecordError

    run: dict[str, dict[str, float]] = {}
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            cells = line.split()
            if len(cells) < 5:
                raise RecordError(path, number, None, "expected 'qid Q0 docid rank score [tag]'")
            try:
                score = float(cells[4])
            except ValueError:
                raise RecordError(path, number, "score", f"not a number: {cells[4]!r}") from None
            run.setdefault(cells[0], {})[cells[2]] = score
    return run


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.2f}"


def _model_line(model: Mapping[str, Any]) -> str:
    kind = model.get("kind")
    if kind == "dense":
        return (
            f"- model: pooling `{model.get('pooling')}`, dtype `{model.get('dtype')}`, max lengths "
            f"{model.get('max_query_length')}/{model.get('max_doc_length')} (query/doc), fingerprint "
            f"`{model.get('fingerprint')}`"
        )
    if kind == "bm25":
        return f"- model: BM25 {model.get('variant')} (k1={model.get('k1')}, b={model.get('b')}, {model.get('tokenizer')})"
    if kind == "hybrid":
        return f"- model: {model.get('fusion')} fusion of {model['first'].get('model')} and {model['second'].get('model')} (depth {model.get('depth')})"
    return f"- model: {kind} `{model.get('run', model.get('model'))}`"


def leaderboard_row(results: Mapping[str, Any], metric: str = "ndcg@10") -> str:
    """`| system | dataset | variant | average | task1 | ... |` (values x100), one line."""
    manifest = results.get("manifest", {})
    system = manifest.get("model", {}).get("model")
    cells = [str(system), str(manifest.get("dataset", {}).get("name")), str(manifest.get("query_variant"))]
    cells.append(_pct(results.get("average", {}).get(metric)))
    cells += [f"{name} {_pct(task['metrics'].get(metric))}" for name, task in results.get("tasks", {}).items()]
    return "| " + " | ".join(cells) + " |"


def markdown_table(results: Mapping[str, Any], metrics: Sequence[str] = TABLE_METRICS) -> str:
    """One row per task, then the macro average and any BRIGHT sub-averages (values x100)."""
    manifest = results.get("manifest", {})
    model = manifest.get("model", {})
    data = manifest.get("dataset", {})
    head = [
        f"# Evaluation: {model.get('model')} on {data.get('name')}",
        "",
        f"- dataset: `{data.get('source')}` (revision `{data.get('revision')}`), query variant "
        f"`{manifest.get('query_variant')}`, long documents: {data.get('long_documents')}",
        _model_line(model),
        f"- protocol: exhaustive, excluded ids removed, top {manifest.get('protocol', {}).get('top_k')}, "
        f"pytrec_eval; reasonembed {manifest.get('package_version')}",
        "",
    ]
    cols = ["task", "queries", *metrics]
    rows = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|"]
    for name, task in results.get("tasks", {}).items():
        vals = [_pct(task["metrics"].get(m)) for m in metrics]
        rows.append(f"| {name} | {task['num_queries']} | " + " | ".join(vals) + " |")
    for group, vals_by_metric in results.get("groups", {}).items():
        rows.append(f"| *{group}* |  | " + " | ".join(_pct(vals_by_metric.get(m)) for m in metrics) + " |")
    if results.get("average"):
        rows.append(
            "| **average** |  | " + " | ".join(_pct(results["average"].get(m)) for m in metrics) + " |"
        )
    instr = manifest.get("instructions", {})
    tail = ["", "Instructions:", *[f"- {t}: {v!r}" for t, v in instr.items()]]
    tail += ["", "Leaderboard row (system | dataset | query variant | average nDCG@10 | per task):", "",
             leaderboard_row(results)]
    return "\n".join(head + rows + tail) + "\n"


def write_report(
    results: Mapping[str, Any], runs: Mapping[str, Mapping[str, Sequence[Hit]]], out_dir: str | Path
) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tag = str(results.get("manifest", {}).get("model", {}).get("model", "reasonembed")).replace(" ", "_")
    tag = tag.rstrip("/").split("/")[-1] or "reasonembed"
    paths = {"json": out / "results.json", "markdown": out / "results.md"}
    for task, run in runs.items():
        paths[f"run:{task}"] = write_trec_run(out / "runs" / f"{task}.trec", run, tag)
    write_json(paths["json"], results)
    atomic_write(paths["markdown"], markdown_table(results))
    return paths
