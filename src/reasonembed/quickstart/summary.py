"""Assemble `DIR/report.md` from what the quickstart's stages saved (their done-marker summaries).

The report is the product of the quickstart: a newcomer reads it to learn whether synthesis, judging
and training helped. It keeps apart what is easy to blur: queries of theorems the model never saw
(the eval part), queries of the corpus it trained on (the train part), and another domain
(EntailmentBank). Its wording is generated from the numbers: which systems improved, got worse or did
not change is a paired bootstrap over queries (`evaluation.compare`), and rows are picked by their
role (what they ran), never by their display name. Inputs are what the stages saved as JSON, so the
report can be rebuilt from a finished run without recomputing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from reasonembed.errors import RecordError
from reasonembed.evaluation.compare import compare, comparison_sentence, comparison_table, score_table
from reasonembed.io import atomic_write, read_jsonl
from reasonembed.redapter.diagnostics import plot_loss_curves, plot_ri
from reasonembed.remixer.pipeline import STAGES
from reasonembed.stages import wall_time_table

COLUMNS = {
    "eval": "eval part: unseen theorems",
    "train": "train part: seen corpus",
    "entailmentbank": "EntailmentBank: another domain",
}
# What a results row is: "base" is the reference every comparison is made against; "base+instruction" and
# "trained" are compared with it.
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


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root))


def _setup(run: Any, o: dict[str, Any]) -> str:
    c, r, s = run.cfg, run.cfg.redapter, run.cfg.synth
    prep = o["prepare"].summary
    llm = o.get("audit").summary.get("model", {}) if "audit" in o else {}
    eb = c.eval.entailmentbank_docs
    lines = [
        f"- LLM: `{llm.get('model') or c.llm.model or 'bundled SmolLM2-135M-Instruct'}` ({c.llm.backend} backend).",
        f"- Corpus: the bundled TheoremQA-Q dev set split by theorem (seed {c.seed}): train part "
        f"{prep['queries']['train']} queries / {prep['documents']['train']} documents over {prep['theorems']['train']} theorems; "
        f"eval part {prep['queries']['eval']} queries / {prep['documents']['eval']} documents over {prep['theorems']['eval']} "
        "theorems. No theorem and no document is in both parts.",
        f"- ReMixer: {s.generate.max_docs_per_domain} source documents, {s.mine.top_k} mined candidates each, "
        f"{s.generate.sampling.max_tokens}/{s.judge.sampling.max_tokens}/{s.reason.sampling.max_tokens} new tokens "
        "for generate/judge/reason "
        "(the paper: ~10,000 documents per domain, 100 candidates, 2,048+ tokens).",
        f"- Training: {r.model.model_name_or_path or 'bundled all-MiniLM-L6-v2'}, {r.train.num_train_epochs:g} epochs, "
        f"batch {r.train.per_device_train_batch_size}, group {r.data.group_size}, lr {r.train.learning_rate}, "
        f"temperature {r.loss.temperature}, RI warm-up {r.loss.ri_warmup_steps} steps, kappa {r.loss.kappa}.",
    ]
    if c.eval.entailmentbank and (eb or c.eval.entailmentbank_queries):
        lines.append(f"- EntailmentBank is **subsampled** ({c.eval.entailmentbank_queries or 'all'} queries, {eb or 'all'} facts): "
                     "compare rows with each other, not with the full-corpus reference (BM25 19.9, MiniLM 29.4).")
    return "\n".join(lines)


def _synth(o: dict[str, Any]) -> str:
    rows = ["| stage | counts |", "|---|---|"]
    for name in STAGES:
        s = o.get(f"synth_{name}")
        if s:
            counts = ", ".join(f"{k}={v}" for k, v in s.summary.get("counts", {}).items())
            rows.append(f"| {name} | {counts} |")
    return "\n".join(rows)


def _generated(run: Any) -> str:
    path = run.root / "synth" / "generate" / "queries.jsonl"
    queries = read_jsonl(path) if path.exists() else []
    if not queries:
        return "The generator produced no accepted query."
    lines = ["The first generated queries, verbatim (judge their quality yourself):", ""]
    lines += [f"- {q['query'][:300]!r}" for q in queries[:3]]
    return "\n".join(lines)


def _samples_note(run: Any, o: dict[str, Any]) -> str:
    remix = o["train_remix"].summary
    if remix.get("skipped"):
        return (f"**Too few synthetic samples to train on:** {remix['reason']}. The ReMixer-trained row is "
                "missing from the tables; the judge audit above says why the judge's labels yield so few "
                "queries with both a positive and a hard negative.")
    path = run.root / "synth" / "assemble" / "train.jsonl"
    samples = read_jsonl(path)
    lines = [f"{len(samples)} synthetic training samples were assembled. Two of them, verbatim:", ""]
    for s in samples[:2]:
        lines += [f"- query: {s['query'][:300]!r}", f"  - positive: {s['pos'][0][:200]!r}",
                  f"  - hard negative: {s['neg'][0][:200]!r}"]
    return "\n".join(lines)


def _training(run: Any, o: dict[str, Any], figures: Path) -> str:
    curves, lines = {}, []
    for which, label in (("train_remix", "ReMixer samples, RI-InfoNCE"), ("train_gold", "gold pairs, InfoNCE")):
        s = o[which].summary
        if s.get("skipped"):
            lines.append(f"- {label}: skipped ({s['reason']}).")
            continue
        curves[label] = [tuple(p) for p in s["loss_curve"]]
        first = s["loss_curve"][0][1] if s["loss_curve"] else float("nan")
        last = s["loss_curve"][-1][1] if s["loss_curve"] else float("nan")
        epochs = max(1, round(run.cfg.redapter.train.num_train_epochs))
        per_epoch = max(1, len(s["loss_curve"]) // epochs)
        means = [sum(v for _, v in s["loss_curve"][i:i + per_epoch]) / len(s["loss_curve"][i:i + per_epoch])
                 for i in range(0, len(s["loss_curve"]), per_epoch)]
        lines.append(f"- {label}: {s['samples']} samples, {s['steps']} optimizer steps of batch {s['batch_size']}, "
                     f"{s['train_seconds']:.0f} s; per-batch loss {first:.3f} (first) → {last:.3f} (last); mean per epoch "
                     + " → ".join(f"{m:.3f}" for m in means) + ". The per-batch loss is noisy: a batch holding two "
                     "questions of the same theorem makes each one's positive the other's in-batch negative.")
        if s.get("ri_steps"):
            ri = s["ri_steps"][-1]
            lines.append(f"  - RI on the last step: min {ri.get('ri_min', 0):.2f}, median {ri.get('ri_median', 0):.2f}, "
                         f"mean {ri.get('ri_mean', 0):.2f}, max {ri.get('ri_max', 0):.2f}.")
    loss_png = plot_loss_curves(curves, figures / "loss.png")
    if loss_png:
        lines += ["", f"![training loss]({_rel(loss_png, run.root)})"]
    ri = o["train_remix"].summary.get("ri_per_sample")
    if ri:
        for name, values in ri.items():
            if values:
                above = sum(v > 1 for v in values)
                lines.append(f"- Per-sample RI with the {name}: {len(values)} samples, {above} with RI > 1 "
                             f"(q' makes the positive easier to find), median {sorted(values)[len(values) // 2]:.2f}.")
        png = plot_ri(ri, figures / "ri.png", kappa=run.cfg.redapter.loss.kappa)
        if png:
            lines += ["", f"![RI distribution]({_rel(png, run.root)})"]
    return "\n".join(lines)


def _audit(run: Any, o: dict[str, Any]) -> str:
    a = o["audit"].summary
    parts = ["On train-part questions paired with a gold document (same theorem) or a document sampled from "
             "outside their gold set, scored by the same judge prompt and LLM as the synthesis run:", "",
             a["gold_markdown"], "", "![judge audit](audit/judge_audit.png)"]
    if "proxy_markdown" in a:
        parts += ["", "### On the synthesis run's own judgements (source-theorem proxy)", "",
                  "A candidate counts as relevant when it shares the theorem of the document the synthetic query was "
                  "written from. This grades the generator and the judge together.", "", a["proxy_markdown"], "",
                  "![judge on synthesis pairs](audit/judge_audit_proxy.png)"]
    return "\n".join(parts)


def results_section(path: Path) -> tuple[str, list[str], list[str]]:
    """From the evaluate stage's results.json: the score tables, the comparison sentences, and those of the
    trained models on unseen theorems (for the bottom line). Rows are picked by their role, not their name."""
    res = json.loads(path.read_text(encoding="utf-8"))
    systems, cols, roles = res["systems"], res["columns"], res.get("roles")
    if not isinstance(roles, dict) or set(roles) != set(systems):
        raise RecordError(path, 1, "roles", "every system needs a role (the evaluate stage of an older version "
                          "wrote this file: delete the folder and run again)")
    if not set(roles.values()) <= set(ROLES) or len(with_role(roles, "base")) != 1:
        raise RecordError(path, 1, "roles", f"roles must be among {list(ROLES)}, exactly one 'base'; got {roles}")
    (base,) = with_role(roles, "base")
    header = ", ".join(f"{COLUMNS[c]}: {v['queries']} queries over {v['documents']} documents" for c, v in cols.items())
    tables = ["nDCG@10 (x100, pytrec_eval, BRIGHT's exclusion rule). " + header + ".", "",
              score_table(systems, COLUMNS), "", "Recall@100 (x100):", "", score_table(systems, COLUMNS, "recall@100")]
    comp, sentences = comparison_table(systems, base, with_role(roles, "base+instruction", "trained"), COLUMNS)
    tables += ["", f"Difference to {base} per query (paired bootstrap, 2,000 resamples):", "", comp]
    unseen = [comparison_sentence(name, COLUMNS[col], d)
              for name, col, d in compare(systems, base, with_role(roles, "trained"), COLUMNS) if col == "eval"]
    return "\n".join(tables), sentences, unseen


def _bottom_line(o: dict[str, Any], unseen: list[str]) -> str:
    gold = o["audit"].summary["gold"]
    remix = o["train_remix"].summary
    lines = [f"- Judge: {gold['verdict']} (kappa {gold['kappa']:.2f} vs chance 0; accuracy {gold['accuracy']:.2f} vs "
             f"{gold['chance_accuracy']:.2f}; {gold['n_unparsed']} of {gold['n_pairs']} answers had no parsable score)."
             if gold["n_scored"] else f"- Judge: {gold['verdict']}."]
    lines.append(f"- Synthetic samples: {remix['samples']}" + (" — too few to train on." if remix.get("skipped") else "."))
    lines += unseen or ["- No trained model was evaluated on unseen theorems."]
    return "\n".join(lines)


def write_quickstart_report(run: Any, outcomes: dict[str, Any]) -> Path:
    root = run.root
    figures = root / "report"
    figures.mkdir(parents=True, exist_ok=True)
    o = dict(outcomes)
    results, sentences, unseen = results_section(root / "evaluate" / "results.json")
    idx = o.get("index")
    serve = (f"The index at `{idx.summary['index']}` holds the full bundled corpus embedded with `{idx.summary['model']}`:\n\n"
             f"    {idx.summary['serve']}\n") if idx and not idx.summary.get("skipped") else "No index was built."
    honest = ("Seen vs unseen: the train part's queries are the very questions the gold-pair model trained on, and "
              "their corpus is the one ReMixer synthesised from, so gains there show fitting, not generalisation. "
              "Only the eval-part column (theorems never seen in training) and EntailmentBank (another domain) "
              "measure whether training transferred.")
    sections = [
        ("Bottom line", _bottom_line(o, unseen)),
        ("What ran", _setup(run, o)),
        ("Results", results),
        ("What improved and what did not", "\n".join(sentences) + "\n\n" + honest),
        ("Judge audit: is the LLM good enough to label training data?", _audit(run, o)),
        ("Synthesis (ReMixer)", _synth(o) + "\n\n" + _generated(run) + "\n\n" + _samples_note(run, o)),
        ("Training (Redapter)", _training(run, o, figures)),
        ("Stages and wall time", wall_time_table(o.values())),
        ("Serve the trained model", serve),
    ]
    parts = ["# reasonembed quickstart report", ""]
    for heading, body in sections:
        parts += [f"## {heading}", "", body.rstrip(), ""]
    path = root / "report.md"
    atomic_write(path, "\n".join(parts))
    return path
