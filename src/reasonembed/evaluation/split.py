"""Split a BRIGHT-layout set whose queries carry a `theorem` label into train and eval parts.

Why: a model trained on questions of the same theorems it is then evaluated on can look better
only because it memorised those theorems (fine-tuning MiniLM on same-theorem pairs of
TheoremQA-Q lifts in-corpus nDCG@10 from 49.3 to 65.1 but leaves unseen theorems flat). The
quickstart and `examples/theoremqa_oracle_experiment.py` therefore train on one set of theorems and
evaluate on another, and report both.

How the split is made (deterministic for a given `seed` and `eval_fraction`):

* Theorems (from the queries' `theorem` field) are sorted, shuffled with `random.Random(seed)`,
  and assigned to the eval part until it holds at least `eval_fraction` of the queries; the rest
  go to the train part. A theorem is never in both parts.
* Documents carry no theorem label. A document gets the theorem of the queries that name it
  (as the query itself or in `gold_ids`); it goes wherever its theorem went.
* Documents no query names are distractors (in TheoremQA-Q: questions of single-question
  theorems). Each goes to the eval part when a seeded hash of its id falls below
  `eval_fraction`, else to the train part. So the parts are disjoint: the eval corpus is text
  that no training stage (generation, mining, judging, training) has seen, and both corpora keep
  about the same share of distractors.
* Each query keeps its `gold_ids` (all inside its part by construction) and the `excluded_ids`
  that exist in its part's corpus (ids that moved to the other part cannot be retrieved anyway).
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reasonembed.corpus import iter_corpus
from reasonembed.errors import RecordError
from reasonembed.io import atomic_write, read_jsonl, write_json, write_jsonl

PARTS = ("train", "eval")


@dataclass
class SplitSummary:
    """What went where; saved as `split.json` next to the parts."""

    seed: int
    eval_fraction: float
    theorems: dict[str, list[str]] = field(default_factory=dict)
    queries: dict[str, int] = field(default_factory=dict)
    documents: dict[str, int] = field(default_factory=dict)
    distractors: dict[str, int] = field(default_factory=dict)
    excluded_ids_dropped: int = 0
    source_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _hash_fraction(seed: int, doc_id: str) -> float:
    digest = hashlib.sha256(f"{seed}:{doc_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _file_sha256(*paths: Path) -> str:
    h = hashlib.sha256()
    for path in paths:
        h.update(path.read_bytes())
    return h.hexdigest()


def assign_theorems(query_counts: dict[str, int], eval_fraction: float, seed: int) -> dict[str, str]:
    """Map each theorem to "train" or "eval" so that eval holds >= eval_fraction of the queries."""
    if not 0.0 < eval_fraction < 1.0:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    order = sorted(query_counts)
    random.Random(seed).shuffle(order)
    total = sum(query_counts.values())
    target = eval_fraction * total
    part: dict[str, str] = {}
    in_eval = 0
    for theorem in order:
        if in_eval < target and len(part) < len(order) - 1:
            part[theorem] = "eval"
            in_eval += query_counts[theorem]
        else:
            part[theorem] = "train"
    if set(part.values()) != {"train", "eval"}:  # a single theorem cannot be split
        raise ValueError("need at least two theorems to split by theorem")
    return part


def document_labels(examples: list[dict[str, Any]], path: str | Path, label_field: str = "theorem",
                    known: set[str] | None = None, docs_path: str | Path | None = None) -> dict[str, str]:
    """Each document a query names (itself, or in `gold_ids`) -> that query's label (its theorem).

    With `known` (the corpus ids), a gold id outside the corpus is an error and a query id outside it
    is skipped; a document that is gold for two labels is always an error (`path` names the examples).
    """
    labels: dict[str, str] = {}
    for line, ex in enumerate(examples, start=1):
        for doc_id in [str(ex["id"]), *map(str, ex.get("gold_ids", []))]:
            if known is not None and doc_id not in known:
                if doc_id == str(ex["id"]):
                    continue  # a query that is not itself in the corpus
                raise RecordError(path, line, "gold_ids", f"{doc_id!r} is not in {docs_path}")
            if labels.setdefault(doc_id, ex[label_field]) != ex[label_field]:
                raise RecordError(path, line, label_field, f"document {doc_id!r} is gold for two labels")
    return labels


def split_by_theorem(
    source: str | Path,
    out: str | Path,
    eval_fraction: float = 0.5,
    seed: int = 13,
    label_field: str = "theorem",
) -> SplitSummary:
    """Write `out/train` and `out/eval` (BRIGHT layout) and `out/split.json`; return the summary."""
    source, out = Path(source), Path(out)
    docs_path, ex_path = source / "documents.jsonl", source / "examples.jsonl"
    corpus = list(iter_corpus(docs_path))  # the one validated corpus reader; records kept whole
    documents = [record for _, _, _, record in corpus]
    examples = read_jsonl(ex_path)  # raw: the split needs the label field, outside the eval contract
    doc_ids = [doc_id for _, doc_id, _, _ in corpus]
    known = set(doc_ids)

    counts: dict[str, int] = {}
    for line, ex in enumerate(examples, start=1):
        label = ex.get(label_field)
        if not isinstance(label, str) or not label:
            raise RecordError(ex_path, line, label_field, "every query needs a label to split by")
        counts[label] = counts.get(label, 0) + 1
    theorem_part = assign_theorems(counts, eval_fraction, seed)

    doc_theorem = document_labels(examples, ex_path, label_field, known, docs_path)

    doc_part: dict[str, str] = {}
    distractors = dict.fromkeys(PARTS, 0)
    for doc_id in doc_ids:
        if doc_id in doc_theorem:
            doc_part[doc_id] = theorem_part[doc_theorem[doc_id]]
        else:
            doc_part[doc_id] = "eval" if _hash_fraction(seed, doc_id) < eval_fraction else "train"
            distractors[doc_part[doc_id]] += 1

    summary = SplitSummary(
        seed=seed,
        eval_fraction=eval_fraction,
        distractors=distractors,
        source_sha256=_file_sha256(docs_path, ex_path),
    )
    for part in PARTS:
        part_docs = [d for d, i in zip(documents, doc_ids, strict=True) if doc_part[i] == part]
        part_ids = {str(d["id"]) for d in part_docs}
        part_examples = []
        for ex in examples:
            if theorem_part[ex[label_field]] != part:
                continue
            kept = [x for x in ex.get("excluded_ids", []) if x == "N/A" or str(x) in part_ids]
            summary.excluded_ids_dropped += len(ex.get("excluded_ids", [])) - len(kept)
            part_examples.append({**ex, "excluded_ids": kept})
        folder = out / part
        write_jsonl(folder / "documents.jsonl", part_docs)
        write_jsonl(folder / "examples.jsonl", part_examples)
        summary.theorems[part] = sorted(t for t, p in theorem_part.items() if p == part)
        summary.queries[part] = len(part_examples)
        summary.documents[part] = len(part_docs)
        atomic_write(folder / "README.md", _part_readme(part, source, summary))
    write_json(out / "split.json", summary.to_dict())
    return summary


def _part_readme(part: str, source: Path, s: SplitSummary) -> str:
    return (
        f"# {source.name} — {part} part (split by theorem)\n\n"
        f"Made by `reasonembed.evaluation.split.split_by_theorem` from `{source}` "
        f"(seed {s.seed}, eval fraction {s.eval_fraction}).\n\n"
        f"- {s.queries[part]} queries over {len(s.theorems[part])} theorems, "
        f"{s.documents[part]} documents ({s.distractors[part]} of them distractors that no query names).\n"
        "- No theorem is in both parts; distractors are divided by a seeded hash of their id.\n"
        "- `excluded_ids` keep only ids present in this part's corpus.\n\n"
        f"Theorems: {json.dumps(s.theorems[part], ensure_ascii=False)}\n"
    )
