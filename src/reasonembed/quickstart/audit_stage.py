"""The quickstart's judge-audit stage: the ReMixer judge on pairs whose relevance the gold labels fix.

Two measurements, kept apart in the report:

1. **Gold audit** (the one to trust). Real train-part questions, each paired with one of its gold
   documents (same theorem) and with documents sampled from outside its gold set. The pairs are
   written as ReMixer `Query` and `Candidates` records and scored by ReMixer's own `run_judge`
   (same prompt, same LLM, same sampling as the synthesis run) — `remixer.audit.audit_dataset`.
2. **Source-theorem proxy** on the judgements the synthesis run actually made: a synthetic query
   inherits the theorem of the document it was written from, and a candidate counts as relevant
   when its theorem is the same. This grades generator and judge together (a query that drifted
   away from its source's theorem makes the proxy label wrong), so it is reported as a proxy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasonembed.evaluation.split import document_labels
from reasonembed.io import read_jsonl, write_json
from reasonembed.remixer.audit import AuditPair, audit_dataset, audit_judgements, plot_score_histogram


def proxy_pairs(queries: list[dict[str, Any]], judgements: list[dict[str, Any]], theorem: dict[str, str]) -> list[AuditPair]:
    """Label each judged (synthetic query, candidate) by "candidate shares the source's theorem"."""
    source = {q["id"]: q["source_id"] for q in queries}
    pairs = []
    for j in judgements:
        src = source.get(j["query_id"])
        if src is None:
            continue
        same = src in theorem and theorem.get(j["doc_id"]) == theorem[src]
        pairs.append(AuditPair(j["query_id"], j["doc_id"], same))
    return pairs


def run_audit(run: Any, folder: Path) -> dict[str, Any]:
    """`run` is the QuickstartRun (config, paths, LLM, domain spec)."""
    import time

    cfg = run.cfg.audit
    llm = run.judge_llm
    before = llm.accounting.snapshot()
    started = time.perf_counter()
    gold = audit_dataset(run.synth, run.data / "train", folder, llm=llm, max_queries=cfg.queries,
                         pos_per_query=cfg.pos_per_query, neg_per_query=cfg.neg_per_query,
                         seed=run.cfg.seed, domain=run.spec.name)
    llm.accounting.dump(folder / "llm_accounting.jsonl", "audit", llm.model, time.perf_counter() - started, since=before)
    out: dict[str, Any] = {"gold": gold.to_dict(), "gold_markdown": gold.to_markdown(), "model": llm.describe(),
                           "llm": llm.accounting.snapshot()}
    synth = run.root / "synth"
    jpath, qpath = synth / "judge" / "judgements.jsonl", synth / "generate" / "queries.jsonl"
    if jpath.exists() and qpath.exists():
        examples_path = run.data / "train" / "examples.jsonl"
        judged = read_jsonl(jpath)
        ppairs = proxy_pairs(read_jsonl(qpath), judged, document_labels(read_jsonl(examples_path), examples_path))
        proxy = audit_judgements(judged, ppairs, gold.threshold, seed=run.cfg.seed)
        plot_score_histogram(proxy, folder / "judge_audit_proxy.png", "Judge scores on synthesis pairs (source-theorem proxy)")
        out |= {"proxy": proxy.to_dict(), "proxy_markdown": proxy.to_markdown()}
    write_json(folder / "quickstart_audit.json", out)
    return out
