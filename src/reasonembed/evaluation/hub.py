"""Hub datasets through `datasets.load_dataset`: BRIGHT's repository layout and R2MED's.

Why separate: these are the only loaders that talk to the Hugging Face hub, so they are the ones
that cannot run offline. `load_bright_repo` also reads a local snapshot of the BRIGHT repository
(folders `documents/`, `examples/`, ... with parquet files and the README's `configs:`) through
the very same `load_dataset` call - that is how the hub code path is tested here. Which tasks,
variants and revision are valid is the registry's business (`evaluation/benchmarks.py`); rows
are validated by the shared functions (`corpus.build_corpus`, `tasks.build_examples`,
`tasks.attach_qrels`), and errors name `<repo>@<revision>:<config>/<split>` and the 1-based row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonembed.corpus import build_corpus
from reasonembed.evaluation.tasks import EvalDataset, EvalTask, Rows, build_examples, files_digest, r2med_task


def _hf_rows(dataset: Any) -> Rows:
    for row, rec in enumerate(dataset, start=1):
        yield row, rec


def load_bright_repo(
    source: str,
    tasks: Sequence[str],
    query_variant: str,
    long_documents: bool,
    revision: str | None,
    cache_dir: str | None = None,
    lenient: bool = False,
) -> EvalDataset:
    """`datasets.load_dataset(source, config, split=task)` per task; `source` is a hub id or a
    local snapshot of the repository (then `revision` is ignored)."""
    import datasets

    is_local = Path(source).is_dir()
    rev = None if is_local else revision
    doc_config = "long_documents" if long_documents else "documents"
    out: dict[str, EvalTask] = {}
    for task in tasks:
        docs = datasets.load_dataset(source, doc_config, split=task, revision=rev, cache_dir=cache_dir)
        where = f"{source}@{rev or 'local'}:{doc_config}/{task}"
        ids, texts = build_corpus(_hf_rows(docs), where, "id", ("content",))
        ex = datasets.load_dataset(source, query_variant, split=task, revision=rev, cache_dir=cache_dir)
        ex_where = f"{source}@{rev or 'local'}:{query_variant}/{task}"
        gold = "gold_ids_long" if long_documents else "gold_ids"
        out[task] = build_examples(task, ids, texts, _hf_rows(ex), ex_where, gold, where, lenient)
    label = files_digest(Path(source)) if is_local else rev
    return EvalDataset("BRIGHT", "bright", out, label, source, query_variant, long_documents, "bright")


def load_r2med_repos(
    org: str,
    tasks: Sequence[str],
    revision: str | None = None,
    cache_dir: str | None = None,
    lenient: bool = False,
) -> EvalDataset:
    """R2MED from the hub: repositories `<org>/<task>`, configs corpus / query / qrels."""
    import datasets

    def table(repo: str, config: str) -> tuple[Rows, str]:
        rows = datasets.load_dataset(repo, config, split=config, revision=revision, cache_dir=cache_dir)
        return _hf_rows(rows), f"{repo}:{config}"

    out: dict[str, EvalTask] = {}
    for task in tasks:
        repo = f"{org}/{task}"
        out[task] = r2med_task(task, table(repo, "corpus"), table(repo, "query"), table(repo, "qrels"), repo, lenient)
    return EvalDataset("R2MED", "r2med", out, revision, org, benchmark="r2med")
