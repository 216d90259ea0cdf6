"""Local dataset folders: BRIGHT layout, BEIR and R2MED, one task per folder (or a folder of them).

* BRIGHT layout: `documents.{jsonl,parquet}` + `examples.{jsonl,parquet}` (+ `long_documents.*`,
  `<variant>.*` for reasoning queries);
* BEIR: `corpus.jsonl` {_id, title, text} + `queries.jsonl` + `qrels/test.tsv`;
* R2MED: `corpus.jsonl` + `query.jsonl` + `qrels.jsonl`.

The layout says how to read a folder, never which benchmark it is: a folder named `biology` is
not BRIGHT's biology unless the user says `--benchmark bright` (evaluation/benchmarks.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reasonembed.corpus import build_corpus, read_corpus
from reasonembed.errors import ConfigError, RecordError
from reasonembed.evaluation.tasks import (
    EvalDataset,
    EvalTask,
    Rows,
    attach_qrels,
    build_examples,
    files_digest,
    r2med_task,
    read_queries,
)
from reasonembed.io import iter_jsonl, iter_table

_TABLE_SUFFIXES = (".jsonl", ".parquet")


def find_table(folder: Path, stem: str) -> Path | None:
    for suffix in _TABLE_SUFFIXES:
        if (folder / f"{stem}{suffix}").exists():
            return folder / f"{stem}{suffix}"
    return None


def folder_layout(folder: Path) -> str | None:
    """"bright-hub" (a snapshot of the hub repository), "local" (BRIGHT layout), "beir", "r2med" or None."""
    if (folder / "documents").is_dir() and (folder / "examples").is_dir():
        return "bright-hub"
    if find_table(folder, "documents") or find_table(folder, "long_documents"):
        return "local"
    if (folder / "corpus.jsonl").exists() and (folder / "qrels").is_dir():
        return "beir"
    if find_table(folder, "corpus") and find_table(folder, "qrels"):
        return "r2med"
    return None


def _load_bright_layout(folder: Path, query_variant: str, long_documents: bool, lenient: bool) -> EvalTask:
    doc_stem = "long_documents" if long_documents else "documents"
    docs_path = find_table(folder, doc_stem)
    ex_path = find_table(folder, query_variant)
    if docs_path is None or ex_path is None:
        have = sorted(p.name for p in folder.iterdir() if p.suffix in _TABLE_SUFFIXES)
        want = f"{doc_stem}.jsonl and {query_variant}.jsonl (or .parquet)"
        raise FileNotFoundError(f"{folder}: expected {want}; found {have}")
    ids, texts = read_corpus(docs_path)
    gold = "gold_ids_long" if long_documents else "gold_ids"
    return build_examples(folder.name, ids, texts, iter_table(ex_path), str(ex_path), gold, str(folder), lenient)


def _load_beir(folder: Path, lenient: bool) -> EvalTask:
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_path = folder / "qrels" / "test.tsv"
    if not qrels_path.exists():
        raise FileNotFoundError(f"{qrels_path}: no such file (BEIR layout needs qrels/test.tsv)")
    ids, texts = build_corpus(iter_jsonl(corpus_path), str(corpus_path), "_id", ("title", "text"), join=True)
    queries = read_queries(iter_jsonl(queries_path), str(queries_path), "_id", "text")
    fields = ("query-id", "corpus-id", "score")
    return attach_qrels(
        folder.name, ids, texts, queries, _iter_tsv(qrels_path), str(qrels_path), fields, str(folder), lenient
    )


def _iter_tsv(path: Path) -> Rows:
    with path.open(encoding="utf-8") as handle:
        header: list[str] | None = None
        for line, raw in enumerate(handle, start=1):
            cells = raw.rstrip("\n").split("\t")
            if not raw.strip():
                continue
            if header is None:
                header = cells
                if header[:2] != ["query-id", "corpus-id"]:
                    raise RecordError(path, line, None, "expected the header 'query-id<TAB>corpus-id<TAB>score'")
                continue
            if len(cells) < 2:
                raise RecordError(path, line, "corpus-id", "expected at least two tab-separated columns")
            yield line, dict(zip(header, cells))


def _load_r2med(folder: Path, lenient: bool) -> EvalTask:
    corpus_path = find_table(folder, "corpus")
    query_path = find_table(folder, "query") or find_table(folder, "queries")
    qrels_path = find_table(folder, "qrels")
    if corpus_path is None or query_path is None or qrels_path is None:
        raise FileNotFoundError(f"{folder}: an R2MED folder needs corpus, query and qrels files")
    def table(path: Path) -> tuple[Rows, str]:
        return iter_table(path), str(path)

    return r2med_task(folder.name, table(corpus_path), table(query_path), table(qrels_path), str(folder), lenient)


def load_folder(
    folder: str | Path,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    long_documents: bool = False,
    lenient: bool = False,
) -> EvalDataset:
    """A one-task folder, or a folder whose sub-folders are tasks, in any supported local layout.

    The dataset's `benchmark` is the layout's own ("beir", "r2med") or "local"; the registry
    (`benchmarks.load_eval_dataset`) relabels it when the user names a benchmark.
    """
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder")
    if folder_layout(root) is not None:
        task_dirs = {root.name: root}
    else:
        task_dirs = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and folder_layout(p)}
        if not task_dirs:
            raise FileNotFoundError(
                f"{root}: not a dataset folder (expected documents.jsonl + examples.jsonl, a BEIR "
                "corpus.jsonl + queries.jsonl + qrels/test.tsv, an R2MED corpus/query/qrels, or sub-folders of those)"
            )
    if tasks:
        bad = [t for t in tasks if t not in task_dirs]
        if bad:
            raise ConfigError(f"{root}: unknown task(s) {bad}; found {sorted(task_dirs)}")
        task_dirs = {t: task_dirs[t] for t in tasks}
    kinds = {folder_layout(p) for p in task_dirs.values()}
    if len(kinds) > 1:
        raise ConfigError(f"{root}: task folders mix layouts {sorted(k or '?' for k in kinds)}")
    kind = kinds.pop()
    if kind == "bright-hub":
        raise ConfigError(f"{root}: a BRIGHT hub snapshot; pass its folder itself as the dataset")
    if kind != "local" and query_variant != "examples":
        raise ConfigError(f"query variants exist only for BRIGHT-layout data, not {kind}")
    loaded: dict[str, EvalTask] = {}
    for name, path in task_dirs.items():
        if kind == "local":
            loaded[name] = _load_bright_layout(path, query_variant, long_documents, lenient)
        elif kind == "beir":
            loaded[name] = _load_beir(path, lenient)
        else:
            loaded[name] = _load_r2med(path, lenient)
        loaded[name].name = name
    benchmark = kind if kind in ("beir", "r2med") else "local"
    return EvalDataset(
        root.name, str(kind), loaded, files_digest(root), str(root), query_variant, long_documents, benchmark
    )
