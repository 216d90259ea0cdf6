"""Evaluation datasets in BRIGHT layout, from the hub or from local folders, validated on load.

Why: a score is only as trustworthy as the qrels and the corpus it was computed on. Every loader
here produces the same `EvalTask` (corpus, queries, binary/graded qrels, per-query excluded ids)
and runs the same checks, so a malformed record stops the run with the file, line and field
instead of silently lowering a score.

Sources (`load_eval_dataset(spec, ...)` picks one from `spec`):

* `"bright"` / `"xlangai/BRIGHT"` - the hub dataset at the pinned `BRIGHT_REVISION`
  (configs `documents` | `long_documents`, `examples` or a `*_reason` variant, one split per task).
  A local snapshot of that repository (folders `documents/`, `examples/`, ... with parquet files
  and the README's `configs:`) goes through the very same `datasets.load_dataset` call.
* `"r2med"` / `"R2MED"` - the eight hub repositories `R2MED/<task>` (configs corpus, query, qrels).
* a local folder in BRIGHT layout: `documents.{jsonl,parquet}` + `examples.{jsonl,parquet}`
  (+ `long_documents.*`, `<variant>.*` for reasoning queries); or a folder of such task folders.
* a local R2MED folder: `corpus.jsonl` + `query.jsonl` + `qrels.jsonl` (or a folder of them).
* a BEIR folder: `corpus.jsonl` {_id,title,text} + `queries.jsonl` + `qrels/test.tsv`.

Checks (each raises `RecordError(path, line, field, ...)`): missing or empty ids, duplicate ids,
empty queries, queries without gold ids, gold ids absent from the corpus, excluded ids that are
also gold ids, qrels naming unknown queries or documents.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError, RecordError
from reasonembed.io import iter_jsonl, iter_table

BRIGHT_HUB_ID = "xlangai/BRIGHT"
# The revision MTEB pins for BRIGHT v1 (12 tasks, theoremqa split into questions/theorems).
BRIGHT_REVISION = "a75a0eb483f6a5233a6efc2d63d71540a4443dfb"
BRIGHT_TASK_GROUPS: dict[str, list[str]] = {
    "StackExchange": [
        "biology",
        "earth_science",
        "economics",
        "psychology",
        "robotics",
        "stackoverflow",
        "sustainable_living",
    ],
    "Coding": ["leetcode", "pony"],
    "Theorem-based": ["aops", "theoremqa_questions", "theoremqa_theorems"],
}
BRIGHT_TASKS: list[str] = [t for group in BRIGHT_TASK_GROUPS.values() for t in group]
BRIGHT_LONG_TASKS: list[str] = BRIGHT_TASK_GROUPS["StackExchange"] + ["pony"]
BRIGHT_QUERY_VARIANTS = [
    "examples",
    "gpt4_reason",
    "claude-3-opus_reason",
    "Gemini-1.0_reason",
    "llama3-70b_reason",
    "grit_reason",
]
R2MED_HUB_ORG = "R2MED"
R2MED_TASKS = [
    "Biology",
    "Bioinformatics",
    "Medical-Sciences",
    "MedXpertQA-Exam",
    "MedQA-Diag",
    "PMC-Treatment",
    "PMC-Clinical",
    "IIYi-Clinical",
]
_TABLE_SUFFIXES = (".jsonl", ".parquet")

Rows = Iterable[tuple[int, dict[str, Any]]]


@dataclass
class EvalTask:
    """One task: an ordered corpus, queries, qrels {qid: {docid: grade}} and excluded ids."""

    name: str
    doc_ids: list[str]
    doc_texts: list[str]
    query_ids: list[str]
    query_texts: list[str]
    qrels: dict[str, dict[str, int]]
    excluded: dict[str, list[str]] = field(default_factory=dict)
    source: str = ""

    def corpus_hash(self) -> str:
        """sha256 over ids and texts in order: changes whenever the corpus does."""
        digest = hashlib.sha256()
        for doc_id, text in zip(self.doc_ids, self.doc_texts):
            digest.update(doc_id.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
        return digest.hexdigest()


@dataclass
class EvalDataset:
    name: str
    kind: str  # "bright" | "r2med" | "beir" | "local"
    tasks: dict[str, EvalTask]
    revision: str | None = None  # hub commit, or sha256 of the local files read
    source: str = ""
    query_variant: str = "examples"
    long_documents: bool = False

    @property
    def benchmark(self) -> str:
        """Which instruction table / sub-averages apply: "bright", "r2med" or "other"."""
        if self.kind == "r2med":
            return "r2med"
        return "bright" if self.kind == "bright" or set(self.tasks) <= set(BRIGHT_TASKS) else "other"


# --------------------------------------------------------------------------- validation core
def _str_id(value: Any, path: str, line: int, fld: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordError(path, line, fld, f"missing or empty id ({value!r})")
    return value


def build_corpus(
    rows: Rows, path: str, id_field: str = "id", text_fields: Sequence[str] = ("content",)
) -> tuple[list[str], list[str]]:
    """Read documents; returns (ids, texts). Text = the first present text field(s) joined by a space."""
    ids: list[str] = []
    texts: list[str] = []
    first_line: dict[str, int] = {}
    for line, rec in rows:
        doc_id = _str_id(rec.get(id_field), path, line, id_field)
        if doc_id in first_line:
            raise RecordError(
                path, line, id_field, f"duplicate document id {doc_id!r} (first at line {first_line[doc_id]})"
            )
        parts = [rec.get(f) for f in text_fields if rec.get(f) not in (None, "")]
        if not any(f in rec for f in text_fields):
            raise RecordError(path, line, text_fields[-1], "missing document text")
        if not all(isinstance(p, str) for p in parts):
            raise RecordError(path, line, text_fields[-1], "document text must be a string")
        first_line[doc_id] = line
        ids.append(doc_id)
        texts.append(" ".join(parts))
    if not ids:
        raise RecordError(path, None, None, "the corpus is empty")
    return ids, texts


def build_examples(
    name: str,
    doc_ids: list[str],
    doc_texts: list[str],
    rows: Rows,
    path: str,
    gold_field: str = "gold_ids",
    source: str = "",
) -> EvalTask:
    """BRIGHT examples rows {id, query, gold_ids, excluded_ids} -> a validated EvalTask."""
    corpus = set(doc_ids)
    qids: list[str] = []
    texts: list[str] = []
    qrels: dict[str, dict[str, int]] = {}
    excluded: dict[str, list[str]] = {}
    first_line: dict[str, int] = {}
    for line, rec in rows:
        qid = _str_id(rec.get("id"), path, line, "id")
        if qid in first_line:
            raise RecordError(
                path, line, "id", f"duplicate query id {qid!r} (first at line {first_line[qid]})"
            )
        query = rec.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RecordError(path, line, "query", f"empty query for {qid!r}")
        gold = rec.get(gold_field)
        if not isinstance(gold, (list, tuple)) or not gold:
            raise RecordError(path, line, gold_field, f"query {qid!r} has no gold ids")
        gold = [str(g) for g in gold]
        missing = [g for g in gold if g not in corpus]
        if missing:
            raise RecordError(path, line, gold_field, f"gold ids not in the corpus: {missing[:5]}")
        excl = rec.get("excluded_ids") or []
        if not isinstance(excl, (list, tuple)):
            raise RecordError(path, line, "excluded_ids", "must be a list of document ids")
        excl = [str(e) for e in excl]
        clash = sorted(set(excl) & set(gold) - {"N/A"})
        if clash:
            raise RecordError(
                path, line, "excluded_ids", f"ids both excluded and gold for {qid!r}: {clash[:5]}"
            )
        first_line[qid] = line
        qids.append(qid)
        texts.append(query)
        qrels[qid] = {g: 1 for g in gold}
        excluded[qid] = excl
    if not qids:
        raise RecordError(path, None, None, "no queries")
    return EvalTask(name, doc_ids, doc_texts, qids, texts, qrels, excluded, source or path)


def attach_qrels(
    name: str,
    doc_ids: list[str],
    doc_texts: list[str],
    queries: dict[str, str],
    qrel_rows: Rows,
    path: str,
    fields: tuple[str, str, str],
    source: str,
) -> EvalTask:
    """BEIR/R2MED style: queries {qid: text} + qrels rows (qid, docid, grade). Queries without
    qrels are dropped (BEIR convention); qrels naming unknown queries or documents are errors."""
    corpus = set(doc_ids)
    q_field, d_field, s_field = fields
    qrels: dict[str, dict[str, int]] = {}
    for line, rec in qrel_rows:
        qid = _str_id(rec.get(q_field), path, line, q_field)
        did = _str_id(rec.get(d_field), path, line, d_field)
        if qid not in queries:
            raise RecordError(path, line, q_field, f"query id {qid!r} is not in the queries file")
        if did not in corpus:
            raise RecordError(path, line, d_field, f"document id {did!r} is not in the corpus")
        try:
            grade = int(float(rec.get(s_field, 1)))
        except (TypeError, ValueError):
            raise RecordError(
                path, line, s_field, f"relevance must be a number, got {rec.get(s_field)!r}"
            ) from None
        qrels.setdefault(qid, {})[did] = grade
    if not qrels:
        raise RecordError(path, None, None, "no qrels")
    qids = [q for q in queries if q in qrels]
    return EvalTask(
        name, doc_ids, doc_texts, qids, [queries[q] for q in qids], qrels, {q: [] for q in qids}, source
    )


def read_queries(rows: Rows, path: str, id_field: str, text_field: str) -> dict[str, str]:
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, rec in rows:
        qid = _str_id(rec.get(id_field), path, line, id_field)
        if qid in first_line:
            raise RecordError(
                path, line, id_field, f"duplicate query id {qid!r} (first at line {first_line[qid]})"
            )
        text = rec.get(text_field)
        if not isinstance(text, str) or not text.strip():
            raise RecordError(path, line, text_field, f"empty query for {qid!r}")
        first_line[qid] = line
        queries[qid] = text
    return queries


# --------------------------------------------------------------------------- local folders
def _find_table(folder: Path, stem: str) -> Path | None:
    for suffix in _TABLE_SUFFIXES:
        if (folder / f"{stem}{suffix}").exists():
            return folder / f"{stem}{suffix}"
    return None


def _folder_kind(folder: Path) -> str | None:
    if (folder / "documents").is_dir() and (folder / "examples").is_dir():
        return "bright-hub"
    if _find_table(folder, "documents") or _find_table(folder, "long_documents"):
        return "local"
    if (folder / "corpus.jsonl").exists() and (folder / "qrels").is_dir():
        return "beir"
    if _find_table(folder, "corpus") and _find_table(folder, "qrels"):
        return "r2med"
    return None


def _load_local_bright(folder: Path, query_variant: str, long_documents: bool) -> EvalTask:
    doc_stem = "long_documents" if long_documents else "documents"
    docs_path = _find_table(folder, doc_stem)
    ex_path = _find_table(folder, query_variant)
    if docs_path is None or ex_path is None:
        have = sorted(p.name for p in folder.iterdir() if p.suffix in _TABLE_SUFFIXES)
        want = f"{doc_stem}.jsonl and {query_variant}.jsonl (or .parquet)"
        raise FileNotFoundError(f"{folder}: expected {want}; found {have}")
    ids, texts = build_corpus(iter_table(docs_path), str(docs_path))
    gold = "gold_ids_long" if long_documents else "gold_ids"
    return build_examples(folder.name, ids, texts, iter_table(ex_path), str(ex_path), gold, str(folder))


def _load_beir(folder: Path) -> EvalTask:
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    qrels_path = folder / "qrels" / "test.tsv"
    if not qrels_path.exists():
        raise FileNotFoundError(f"{qrels_path}: no such file (BEIR layout needs qrels/test.tsv)")
    ids, texts = build_corpus(iter_jsonl(corpus_path), str(corpus_path), "_id", ("title", "text"))
    queries = read_queries(iter_jsonl(queries_path), str(queries_path), "_id", "text")
    return attach_qrels(
        folder.name,
        ids,
        texts,
        queries,
        _iter_tsv(qrels_path),
        str(qrels_path),
        ("query-id", "corpus-id", "score"),
        str(folder),
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
                    raise RecordError(
                        path, line, None, "expected the header 'query-id<TAB>corpus-id<TAB>score'"
                    )
                continue
            if len(cells) < 2:
                raise RecordError(path, line, "corpus-id", "expected at least two tab-separated columns")
            yield line, dict(zip(header, cells))


def _load_local_r2med(folder: Path) -> EvalTask:
    corpus_path = _find_table(folder, "corpus")
    query_path = _find_table(folder, "query") or _find_table(folder, "queries")
    qrels_path = _find_table(folder, "qrels")
    if corpus_path is None or query_path is None or qrels_path is None:
        raise FileNotFoundError(f"{folder}: an R2MED folder needs corpus, query and qrels files")
    rows = list(iter_table(corpus_path))
    id_field = "id" if rows and "id" in rows[0][1] else "docid"
    ids, texts = build_corpus(rows, str(corpus_path), id_field, ("text",))
    queries = read_queries(iter_table(query_path), str(query_path), "id", "text")
    return attach_qrels(
        folder.name,
        ids,
        texts,
        queries,
        iter_table(qrels_path),
        str(qrels_path),
        ("q_id", "p_id", "score"),
        str(folder),
    )


def _files_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def load_local(
    folder: str | Path,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    long_documents: bool = False,
) -> EvalDataset:
    """A one-task folder, or a folder whose sub-folders are tasks, in any supported local layout."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such dataset folder")
    kind = _folder_kind(root)
    if kind is not None:
        task_dirs = {root.name: root}
    else:
        task_dirs = {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and _folder_kind(p)}
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
    kinds = {_folder_kind(p) for p in task_dirs.values()}
    if len(kinds) > 1:
        raise ConfigError(f"{root}: task folders mix layouts {sorted(k or '?' for k in kinds)}")
    kind = kinds.pop()
    if kind == "bright-hub":
        raise ConfigError(f"{root}: a BRIGHT hub snapshot; pass its folder itself as the dataset")
    if kind != "local" and query_variant != "examples":
        raise ConfigError(f"query variants exist only for BRIGHT-layout data, not {kind}")
    loaders = {
        "local": lambda p: _load_local_bright(p, query_variant, long_documents),
        "beir": _load_beir,
        "r2med": _load_local_r2med,
    }
    loaded: dict[str, EvalTask] = {}
    for name, path in task_dirs.items():
        loaded[name] = loaders[kind](path)
        loaded[name].name = name
    label = kind
    return EvalDataset(
        root.name, label, loaded, _files_digest(root), str(root), query_variant, long_documents
    )


def load_eval_dataset(
    spec: str | Path,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    long_documents: bool = False,
    revision: str | None = None,
    cache_dir: str | None = None,
) -> EvalDataset:
    """Resolve `spec` (hub name, local BRIGHT snapshot, or local folder) and load it."""
    from reasonembed.evaluation.hub import load_bright, load_r2med

    text = str(spec)
    if text.lower() in ("bright", BRIGHT_HUB_ID.lower()):
        return load_bright(
            BRIGHT_HUB_ID, tasks, query_variant, long_documents, revision or BRIGHT_REVISION, cache_dir
        )
    if text.lower() in ("r2med", R2MED_HUB_ORG.lower()):
        return load_r2med(tasks, revision, cache_dir)
    path = Path(text)
    if path.is_dir() and _folder_kind(path) == "bright-hub":
        return load_bright(str(path), tasks, query_variant, long_documents, None, cache_dir)
    if not path.exists():
        raise FileNotFoundError(f"{text}: no such dataset folder (hub datasets: 'bright', 'r2med')")
    return load_local(path, tasks, query_variant, long_documents)
