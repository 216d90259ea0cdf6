"""Audit the relevance judge against gold labels before anyone trains on its labels.

Why: ReMixer turns the judge's 1–5 scores into positives (>= 3) and hard negatives (1–2). If the
judge cannot tell a gold document from a random one, the training data is noise, and no published
pipeline checks this. The audit takes (query, document) pairs whose relevance is *known* — each
query's gold documents and documents sampled from outside its gold set — has the judge score
them (or reads judgement records the judge stage already wrote), and reports:

* accuracy and Cohen's kappa of "score >= threshold" against the gold label, next to the chance
  level (the majority-class accuracy; kappa 0), with bootstrap 95% intervals (pairs resampled);
* ROC AUC of the raw score (does a higher score mean "more likely gold"? chance 0.5);
* the 2x2 confusion matrix and the score histogram per gold class;
* how many answers had no parsable score (never guessed: counted and left out of the metrics).

A verdict line says whether the judge beats chance, so a user knows if their LLM is good enough.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reasonembed.bootstrap import bootstrap_ci95
from reasonembed.plotting import new_figure, save_figure

SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class AuditPair:
    query_id: str
    doc_id: str
    relevant: bool


def build_audit_pairs(
    examples: Sequence[Mapping[str, Any]],
    doc_ids: Sequence[str],
    max_queries: int = 8,
    pos_per_query: int = 1,
    neg_per_query: int = 1,
    seed: int = 0,
) -> list[AuditPair]:
    """Gold pairs and sampled non-gold pairs for up to `max_queries` queries (seeded, ordered).

    Non-gold documents are drawn uniformly from `doc_ids` minus the query's gold and excluded ids,
    so they are "unrelated" in the sense of the gold labels (a judge that calls them relevant is
    wrong by the dataset's own definition). Queries without any gold document are skipped.
    """
    rng = random.Random(seed)
    usable = [ex for ex in examples if ex.get("gold_ids")]
    chosen = rng.sample(usable, min(max_queries, len(usable)))
    chosen.sort(key=lambda ex: str(ex["id"]))
    all_ids = sorted(set(map(str, doc_ids)))
    pairs: list[AuditPair] = []
    for ex in chosen:
        qid = str(ex["id"])
        gold = sorted(set(map(str, ex["gold_ids"])) & set(all_ids))
        blocked = set(gold) | set(map(str, ex.get("excluded_ids", []))) | {qid}
        pool = [d for d in all_ids if d not in blocked]
        for doc in rng.sample(gold, min(pos_per_query, len(gold))):
            pairs.append(AuditPair(qid, doc, True))
        for doc in rng.sample(pool, min(neg_per_query, len(pool))):
            pairs.append(AuditPair(qid, doc, False))
    return pairs


def cohen_kappa(y_true: Sequence[int], y_pred: Sequence[int]) -> float:
    """Cohen's kappa for two binary raters; 0.0 when chance agreement is total (degenerate)."""
    t, p = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    if t.size == 0:
        return float("nan")
    observed = float(np.mean(t == p))
    expected = float(np.mean(t) * np.mean(p) + (1 - np.mean(t)) * (1 - np.mean(p)))
    if expected >= 1.0:
        return 0.0
    return (observed - expected) / (1.0 - expected)


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Probability that a random gold pair outscores a random non-gold pair (ties count half)."""
    y, s = np.asarray(labels, dtype=bool), np.asarray(scores, dtype=float)
    pos, neg = s[y], s[~y]
    if pos.size == 0 or neg.size == 0:
        return float("nan")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (pos.size * neg.size))


@dataclass
class AuditResult:
    threshold: int
    n_pairs: int
    n_scored: int
    n_unparsed: int
    n_relevant: int
    accuracy: float
    kappa: float
    auc: float
    chance_accuracy: float
    accuracy_ci: tuple[float, float]
    kappa_ci: tuple[float, float]
    confusion: list[list[int]]  # rows: gold (not relevant, relevant); cols: judged (<thr, >=thr)
    histogram: dict[str, dict[str, int]] = field(default_factory=dict)  # gold class -> score -> count
    missing: int = 0  # labelled pairs with no judgement record at all

    @property
    def verdict(self) -> str:
        if self.n_scored == 0:
            return "no parsable scores: the judge could not be assessed (every answer lacked a <score>)"
        if min(sum(row) for row in self.confusion) == 0:  # agreement is undefined without both gold classes
            return (
                f"only {self.n_scored} of {self.n_pairs} answers had a parsable score, all on pairs of one gold "
                "class: too few to assess the judge (treat its labels as untrustworthy)"
            )
        lo = self.kappa_ci[0]
        if lo > 0.4:
            return "the judge agrees with the gold labels well beyond chance"
        if lo > 0.0:
            return "the judge beats chance, but weakly: expect noisy positives and negatives"
        return "the judge does NOT beat chance on these pairs: its labels are not trustworthy training data"

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "n_pairs": self.n_pairs,
            "n_scored": self.n_scored,
            "n_unparsed": self.n_unparsed,
            "n_missing": self.missing,
            "n_relevant": self.n_relevant,
            "accuracy": self.accuracy,
            "accuracy_ci95": list(self.accuracy_ci),
            "chance_accuracy": self.chance_accuracy,
            "kappa": self.kappa,
            "kappa_ci95": list(self.kappa_ci),
            "kappa_chance": 0.0,
            "auc": self.auc,
            "auc_chance": 0.5,
            "confusion": self.confusion,
            "histogram": self.histogram,
            "verdict": self.verdict,
        }

    def to_markdown(self) -> str:
        def f(x: float) -> str:
            return "n/a" if x != x else f"{x:.3f}"

        (tn, fp), (fn, tp) = self.confusion
        lines = [
            f"Pairs: {self.n_pairs} labelled ({self.n_relevant} gold, {self.n_pairs - self.n_relevant} non-gold); "
            f"{self.n_scored} with a parsable score, {self.n_unparsed} unparsable"
            + (f", {self.missing} never judged" if self.missing else "")
            + f". Relevant = score >= {self.threshold}.",
            "",
            "| measure | judge | 95% CI | chance |",
            "|---|---|---|---|",
            f"| accuracy | {f(self.accuracy)} | {f(self.accuracy_ci[0])}–{f(self.accuracy_ci[1])} | {f(self.chance_accuracy)} (majority class) |",
            f"| Cohen's kappa | {f(self.kappa)} | {f(self.kappa_ci[0])}–{f(self.kappa_ci[1])} | 0.000 |",
            f"| ROC AUC of the score | {f(self.auc)} | | 0.500 |",
            "",
            "| gold \\ judged | not relevant (< thr) | relevant (>= thr) |",
            "|---|---|---|",
            f"| non-gold | {tn} | {fp} |",
            f"| gold | {fn} | {tp} |",
            "",
            "| score | " + " | ".join(str(s) for s in SCORES) + " | unparsable |",
            "|---|" + "---|" * (len(SCORES) + 1),
        ]
        for cls in ("gold", "non-gold"):
            row = self.histogram.get(cls, {})
            lines.append(
                f"| {cls} | "
                + " | ".join(str(row.get(str(s), 0)) for s in SCORES)
                + f" | {row.get('null', 0)} |"
            )
        lines += ["", f"**Verdict:** {self.verdict}."]
        return "\n".join(lines)


def _bootstrap(
    t: np.ndarray, p: np.ndarray, n: int, seed: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% intervals of accuracy and kappa, pairs resampled (the same resamples for both)."""
    if t.size == 0:
        nan = (float("nan"), float("nan"))
        return nan, nan
    accuracy = bootstrap_ci95(lambda idx: (t[idx] == p[idx]).mean(axis=1), t.size, n, seed)
    kappa = bootstrap_ci95(lambda idx: [cohen_kappa(t[i], p[i]) for i in idx], t.size, n, seed)
    return accuracy, kappa


def audit_judgements(
    judgements: Iterable[Mapping[str, Any]],
    pairs: Iterable[AuditPair],
    threshold: int = 3,
    bootstrap: int = 1000,
    seed: int = 0,
) -> AuditResult:
    """Score judgement records ({query_id, doc_id, score}) against the labelled pairs.

    Judgements for pairs outside `pairs` are ignored (the judge stage may have scored more); a
    labelled pair with no record counts as `missing`; a record whose score is None as unparsable.
    """
    if threshold not in SCORES:
        raise ValueError(f"threshold must be one of {SCORES}, got {threshold}")
    labels = {(p.query_id, p.doc_id): p.relevant for p in pairs}
    scores: dict[tuple[str, str], int | None] = {}
    for rec in judgements:
        key = (str(rec["query_id"]), str(rec["doc_id"]))
        if key in labels:
            scores[key] = rec.get("score")
    histogram: dict[str, dict[str, int]] = {"gold": {}, "non-gold": {}}
    truth, judged, raw = [], [], []
    unparsed = 0
    for key, relevant in labels.items():
        if key not in scores:
            continue
        score = scores[key]
        cls = "gold" if relevant else "non-gold"
        name = "null" if score is None else str(int(score))
        histogram[cls][name] = histogram[cls].get(name, 0) + 1
        if score is None:
            unparsed += 1
            continue
        truth.append(int(relevant))
        judged.append(int(score >= threshold))
        raw.append(float(score))
    t, p = np.asarray(truth, dtype=int), np.asarray(judged, dtype=int)
    confusion = [
        [int(((t == 0) & (p == 0)).sum()), int(((t == 0) & (p == 1)).sum())],
        [int(((t == 1) & (p == 0)).sum()), int(((t == 1) & (p == 1)).sum())],
    ]
    acc_ci, kappa_ci = _bootstrap(t, p, bootstrap, seed)
    positive_share = float(t.mean()) if t.size else float("nan")
    return AuditResult(
        threshold=threshold,
        n_pairs=len(labels),
        n_scored=int(t.size),
        n_unparsed=unparsed,
        n_relevant=sum(labels.values()),
        accuracy=float((t == p).mean()) if t.size else float("nan"),
        kappa=cohen_kappa(t, p),
        auc=roc_auc(t, raw),
        chance_accuracy=max(positive_share, 1 - positive_share) if t.size else float("nan"),
        accuracy_ci=acc_ci,
        kappa_ci=kappa_ci,
        confusion=confusion,
        histogram=histogram,
        missing=len(labels) - len(scores),
    )


def plot_score_histogram(
    result: AuditResult, path: str | Path, title: str = "Judge scores on labelled pairs"
) -> Path:
    """Grouped bar chart of score counts (1–5 and unparsable) for gold vs non-gold pairs."""
    names = [str(s) for s in SCORES] + ["null"]
    x = np.arange(len(names))
    fig, ax = new_figure()
    for offset, cls, colour in ((-0.2, "gold", "tab:green"), (0.2, "non-gold", "tab:red")):
        counts = [result.histogram.get(cls, {}).get(n, 0) for n in names]
        ax.bar(x + offset, counts, width=0.4, label=cls, color=colour)
    ax.axvline(result.threshold - 1.5, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(x, [*map(str, SCORES), "unparsable"])
    ax.set_xlabel(f"judge score (dashed line: relevance threshold {result.threshold})")
    ax.set_ylabel("pairs")
    ax.set_title(title)
    ax.legend()
    return save_figure(fig, path)


def audit_dataset(
    config: Any,
    dataset: str | Path,
    out: str | Path,
    llm: Any = None,
    judgements: str | Path | None = None,
    max_queries: int = 8,
    pos_per_query: int = 1,
    neg_per_query: int = 1,
    threshold: int | None = None,
    seed: int = 0,
    domain: str | None = None,
) -> AuditResult:
    """Audit the judge on a BRIGHT-layout folder (documents.jsonl + examples.jsonl with gold_ids).

    Writes `out/{pairs,queries,candidates}.jsonl`. With `judgements` (records of the judge stage, e.g.
    a run over these same queries), only scores them; otherwise runs ReMixer's `run_judge` — same
    prompt, sampling and LLM as `config` (a SynthConfig) — into `out/judgements.jsonl`, resumably.
    A pair counts as judged relevant at `threshold`, by default the score at which ReMixer's assemble
    stage makes a positive (`config.assemble.pos_min_score`): the audit grades the labels training gets.
    Then writes `out/audit.json` and `out/judge_audit.png` and returns the result.
    """
    from reasonembed.evaluation.datasets import load_eval_dataset
    from reasonembed.io import atomic_write, read_jsonl, write_json, write_jsonl
    from reasonembed.remixer.common import domain_spec

    dataset, out = Path(dataset), Path(out)
    docs_path = dataset / "documents.jsonl"
    task = next(iter(load_eval_dataset(dataset).tasks.values()))  # read and validated as evaluation reads it
    examples = [{"id": qid, "query": query, "gold_ids": list(task.qrels[qid]), "excluded_ids": task.excluded.get(qid, [])}
                for qid, query in zip(task.query_ids, task.query_texts, strict=True)]
    doc_ids = list(task.doc_ids)
    pairs = build_audit_pairs(examples, doc_ids, max_queries, pos_per_query, neg_per_query, seed)
    write_jsonl(out / "pairs.jsonl", [{"query_id": p.query_id, "doc_id": p.doc_id, "relevant": p.relevant} for p in pairs])
    if judgements is None:
        from reasonembed.llm import build_llm
        from reasonembed.remixer.judge import run_judge

        spec = domain_spec(config, domain or config.domain)
        by_id = {str(ex["id"]): ex for ex in examples}
        qids = sorted({p.query_id for p in pairs})
        write_jsonl(out / "queries.jsonl", [
            {"id": q, "source_id": q, "domain": spec.name, "instruction": spec.instruction, "query": by_id[q]["query"],
             "conditions": {}, "provenance": {"source": "judge audit"}} for q in qids])
        write_jsonl(out / "candidates.jsonl", [
            {"query_id": q, "candidates": [{"doc_id": p.doc_id, "score": 0.0} for p in pairs if p.query_id == q],
             "provenance": {"source": "judge audit"}} for q in qids])
        llm = llm or build_llm(config.judge_llm or config.llm)
        run_judge(config, llm, queries=out / "queries.jsonl", candidates=out / "candidates.jsonl",
                  corpus=docs_path, out=out / "judgements.jsonl")
        judgements = out / "judgements.jsonl"
    if threshold is None:
        threshold = config.assemble.pos_min_score
    result = audit_judgements(read_jsonl(judgements), pairs, threshold, seed=seed)
    write_json(out / "audit.json", {**result.to_dict(), "dataset": str(dataset), "judgements": str(judgements)})
    plot_score_histogram(result, out / "judge_audit.png")
    atomic_write(out / "audit.md", result.to_markdown() + "\n")
    return result
