"""Training samples from the train part's gold labels: the comparison the synthetic data must beat.

Why: if a model trained on ReMixer's synthetic samples does no better than one trained on the
human relevance labels of the same documents, the synthesis did not pay off (or the judge was too
weak); if neither beats the base model on *unseen* theorems, training only fitted the corpus.

Each train-part query becomes one sample in the published ReasonEmbed format: positives = its
gold documents (questions solved with the same theorem), hard negatives = the BM25-most-similar
documents that are neither gold nor excluded nor the query itself (lexically close, different
theorem — the hard negatives issue 4 prescribes). No reasoning query is written for them (q' would
need an LLM call per query), so they train with plain InfoNCE; the report says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasonembed.io import read_jsonl
from reasonembed.records import TrainingSample, validate_record


def gold_samples(part_dir: str | Path, instruction: str, negatives: int = 3, domain: str = "theoremqa_questions") -> list[dict[str, Any]]:
    """Samples for every query of a BRIGHT-layout folder (documents.jsonl + examples.jsonl)."""
    from reasonembed.retrieval.bm25 import BM25Searcher

    part_dir = Path(part_dir)
    docs = read_jsonl(part_dir / "documents.jsonl")
    examples = read_jsonl(part_dir / "examples.jsonl")
    text = {str(d["id"]): d.get("content", d.get("text", "")) for d in docs}
    bm25 = BM25Searcher(list(text), list(text.values()))
    blocked = {str(ex["id"]): {str(ex["id"]), *map(str, ex.get("gold_ids", [])), *map(str, ex.get("excluded_ids", []))}
               for ex in examples}
    hits = bm25.batch_search([ex["query"] for ex in examples], [str(ex["id"]) for ex in examples],
                             k=negatives + max(map(len, blocked.values()), default=0), excluded=blocked)
    samples = []
    for line, ex in enumerate(examples, start=1):
        qid = str(ex["id"])
        pos_ids = [str(g) for g in ex.get("gold_ids", []) if str(g) in text]
        if not pos_ids:
            continue
        neg_ids = [h.docid for h in hits[qid]][:negatives]
        record = {
            "id": f"gold-{qid}",
            "prompt": instruction,
            "query": ex["query"],
            "reasoning_query": None,
            "pos": [text[d] for d in pos_ids],
            "neg": [text[d] for d in neg_ids],
            "pos_ids": pos_ids,
            "neg_ids": neg_ids,
            "domain": domain,
            "provenance": {"source": "gold labels", "negatives": "BM25 top non-gold"},
        }
        validate_record(record, TrainingSample, part_dir / "examples.jsonl", line)
        samples.append(record)
    return samples

