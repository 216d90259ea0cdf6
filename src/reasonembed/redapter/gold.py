"""Training samples from a labelled BRIGHT-layout folder: train on human relevance labels with Redapter.

Why: labelled queries are the baseline any synthetic data must beat (the quickstart trains on both
and compares), and a user with labelled data of their own can train on it directly.

Each query becomes one sample in the published ReasonEmbed format: positives = its gold
documents, hard negatives = the BM25-most-similar documents that are neither gold nor excluded
nor the query itself (lexically close yet not relevant). No reasoning query q' is written (that
would need an LLM call per query), so these samples train with plain InfoNCE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reasonembed.records import TrainingSample, validate_record


def gold_samples(part_dir: str | Path, instruction: str, negatives: int = 3, domain: str = "theoremqa_questions") -> list[dict[str, Any]]:
    """Samples for every query of a BRIGHT-layout folder (documents.jsonl + examples.jsonl)."""
    from reasonembed.evaluation.datasets import load_eval_dataset
    from reasonembed.retrieval.bm25 import BM25Searcher

    part_dir = Path(part_dir)
    (task,) = load_eval_dataset(part_dir).tasks.values()  # read and validated by the evaluation loader
    text = dict(zip(task.doc_ids, task.doc_texts, strict=True))
    bm25 = BM25Searcher(task.doc_ids, task.doc_texts)
    blocked = {qid: {qid, *task.qrels[qid], *task.excluded.get(qid, [])} for qid in task.query_ids}
    hits = bm25.batch_search(task.query_texts, task.query_ids,
                             k=negatives + max(map(len, blocked.values()), default=0), excluded=blocked)
    samples = []
    for line, (qid, query) in enumerate(zip(task.query_ids, task.query_texts, strict=True), start=1):
        pos_ids = [d for d in task.qrels[qid] if d in text]
        if not pos_ids:
            continue
        neg_ids = [h.docid for h in hits[qid]][:negatives]
        record = {
            "id": f"gold-{qid}",
            "prompt": instruction,
            "query": query,
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

