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

from reasonembed.records import TrainingSample, validate_record


def bright_folder_task(folder: str | Path) -> Any:
    """The one task of a BRIGHT-layout folder, read and validated by the evaluation loader."""
    from reasonembed.evaluation.datasets import load_eval_dataset

    return next(iter(load_eval_dataset(folder).tasks.values()))


def gold_samples(part_dir: str | Path, instruction: str, negatives: int = 3, domain: str = "theoremqa_questions") -> list[dict[str, Any]]:
    """Samples for every query of a BRIGHT-layout folder (documents.jsonl + examples.jsonl)."""
    from reasonembed.retrieval.bm25 import BM25Searcher

    part_dir = Path(part_dir)
    task = bright_folder_task(part_dir)
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

