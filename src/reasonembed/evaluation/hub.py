"""Hub datasets: BRIGHT (`xlangai/BRIGHT`, pinned revision) and R2MED (`R2MED/<task>`).

Why separate: these are the only loaders that talk to the Hugging Face hub (through
`datasets.load_dataset`), so they are the ones that cannot run offline. `load_bright` also takes
a local snapshot of the BRIGHT repository (folders `documents/`, `examples/`, ... with parquet
files and the README's `configs:`), which goes through the very same `load_dataset` call - that
is how the hub code path is tested here. Rows are validated by the same functions as local files
(`datasets.build_corpus`, `build_examples`, `attach_qrels`), and errors name
`<repo>@<revision>:<config>/<split>` and the 1-based row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError
from reasonembed.evaluation.datasets import (
    BRIGHT_HUB_ID,
    BRIGHT_LONG_TASKS,
    BRIGHT_QUERY_VARIANTS,
    BRIGHT_REVISION,
    BRIGHT_TASKS,
    R2MED_HUB_ORG,
    R2MED_TASKS,
    EvalDataset,
    EvalTask,
    Rows,
    _files_digest,
    attach_qrels,
    build_corpus,
    build_examples,
    read_queries,
)


def _hf_rows(dataset: Any) -> Rows:
    for row, rec in enumerate(dataset, start=1):
        yield row, rec


def load_bright(
    source: str = BRIGHT_HUB_ID,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    long_documents: bool = False,
    revision: str | None = BRIGHT_REVISION,
    cache_dir: str | None = None,
) -> EvalDataset:
    """BRIGHT through `datasets.load_dataset(source, config, split=task)`; `source` is the hub id
    or a local snapshot of the repository (then `revision` is ignored)."""
    import datasets

    if query_variant not in BRIGHT_QUERY_VARIANTS:
        raise ConfigError(f"unknown BRIGHT query variant {query_variant!r}; valid: {BRIGHT_QUERY_VARIANTS}")
    valid = BRIGHT_LONG_TASKS if long_documents else BRIGHT_TASKS
    names = list(tasks or valid)
    bad = [t for t in names if t not in valid]
    if bad:
        raise ConfigError(f"unknown BRIGHT task(s) {bad}; valid: {valid}")
    is_local = Path(source).is_dir()
    rev = None if is_local else revision
    doc_config = "long_documents" if long_documents else "documents"
    out: dict[str, EvalTask] = {}
    for task in names:
        docs = datasets.load_dataset(source, doc_config, split=task, revision=rev, cache_dir=cache_dir)
        where = f"{source}@{rev or 'local'}:{doc_config}/{task}"
        ids, texts = build_corpus(_hf_rows(docs), where)
        ex = datasets.load_dataset(source, query_variant, split=task, revision=rev, cache_dir=cache_dir)
        ex_where = f"{source}@{rev or 'local'}:{query_variant}/{task}"
        gold = "gold_ids_long" if long_documents else "gold_ids"
        out[task] = build_examples(task, ids, texts, _hf_rows(ex), ex_where, gold, where)
    revision_label = _files_digest(Path(source)) if is_local else rev
    return EvalDataset("BRIGHT", "bright", out, revision_label, source, query_variant, long_documents)


def load_r2med(
    tasks: Sequence[str] | None = None, revision: str | None = None, cache_dir: str | None = None
) -> EvalDataset:
    """R2MED from the hub: repositories `R2MED/<task>`, configs corpus / query / qrels."""
    import datasets

    names = list(tasks or R2MED_TASKS)
    bad = [t for t in names if t not in R2MED_TASKS]
    if bad:
        raise ConfigError(f"unknown R2MED task(s) {bad}; valid: {R2MED_TASKS}")
    out: dict[str, EvalTask] = {}
    for task in names:
        repo = f"{R2MED_HUB_ORG}/{task}"
        corpus = datasets.load_dataset(repo, "corpus", split="corpus", revision=revision, cache_dir=cache_dir)
        id_field = "id" if "id" in corpus.column_names else "docid"
        ids, texts = build_corpus(_hf_rows(corpus), f"{repo}:corpus", id_field, ("text",))
        query_ds = datasets.load_dataset(repo, "query", split="query", revision=revision, cache_dir=cache_dir)
        queries = read_queries(_hf_rows(query_ds), f"{repo}:query", "id", "text")
        qrels = datasets.load_dataset(repo, "qrels", split="qrels", revision=revision, cache_dir=cache_dir)
        out[task] = attach_qrels(
            task, ids, texts, queries, _hf_rows(qrels), f"{repo}:qrels", ("q_id", "p_id", "score"), repo
        )
    return EvalDataset("R2MED", "r2med", out, revision, R2MED_HUB_ORG)
