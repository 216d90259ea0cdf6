"""What an evaluation runs on: `EvalTask` (corpus, queries, qrels, excluded ids) and `EvalDataset`,
and the validation of query and qrels rows every loader (hub or local folder) shares.

Why one place: a score is only as trustworthy as its qrels, so each loader produces the same
`EvalTask` through the same checks, and a malformed record stops the run with the file, line and
field (`RecordError`) instead of silently lowering a score. Documents are read by the project's
one corpus reader (`reasonembed.corpus`).

Checks: missing or empty ids, duplicate ids, empty queries, queries without gold ids, gold ids
absent from the corpus, excluded ids that are also gold ids, qrels naming unknown queries or
documents. With `lenient=True`, qrels (or gold ids) naming documents missing from the corpus are
dropped with a warning instead (some public datasets ship such qrels); a query left without any
relevant document is then dropped too, and the count is logged.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reasonembed.corpus import build_corpus, record_id
from reasonembed.errors import RecordError

log = logging.getLogger(__name__)
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
        return corpus_hash(self.doc_ids, self.doc_texts)

    def subsample(self, max_queries: int | None, max_docs: int | None, seed: int = 0) -> EvalTask:
        """The first `max_queries` queries; every gold and excluded document of those, plus a seeded sample
        of the others up to `max_docs` documents (order kept). Scores on it are not comparable to the full task."""
        if max_queries is None and max_docs is None:
            return self
        qids = self.query_ids[: max_queries or len(self.query_ids)]
        needed = {d for q in qids for d in (*self.qrels.get(q, {}), *self.excluded.get(q, []))}
        others = [d for d in self.doc_ids if d not in needed]
        room = max(0, (max_docs or len(self.doc_ids)) - len(needed))
        keep = needed | set(random.Random(seed).sample(others, min(room, len(others))))
        docs = [(d, t) for d, t in zip(self.doc_ids, self.doc_texts, strict=True) if d in keep]
        return EvalTask(
            name=self.name, doc_ids=[d for d, _ in docs], doc_texts=[t for _, t in docs],
            query_ids=qids, query_texts=self.query_texts[: len(qids)],
            qrels={q: dict(self.qrels[q]) for q in qids}, excluded={q: list(self.excluded.get(q, [])) for q in qids},
            source=f"{self.source} (subsample: {len(qids)} queries, {len(docs)} documents)",
        )


def corpus_hash(doc_ids: Iterable[str], doc_texts: Iterable[str]) -> str:
    """sha256 over (id, text) pairs in order (the embedding cache's corpus key)."""
    digest = hashlib.sha256()
    for doc_id, text in zip(doc_ids, doc_texts, strict=True):
        digest.update(doc_id.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
    return digest.hexdigest()


@dataclass
class EvalDataset:
    """Tasks of one dataset, plus what was loaded and which registry benchmark it belongs to.

    `kind` is the layout read ("bright" hub, "r2med" hub, "local" BRIGHT layout, "beir");
    `benchmark` names the registry entry (`evaluation.benchmarks`) whose instructions, exclusion
    rule and aggregation apply ("bright", "r2med", "beir" or "local").
    """

    name: str
    kind: str
    tasks: dict[str, EvalTask]
    revision: str | None = None  # hub commit, or sha256 of the local files read
    source: str = ""
    query_variant: str = "examples"
    long_documents: bool = False
    benchmark: str = "local"

    def subsample(self, max_queries: int | None, max_docs: int | None, seed: int = 0) -> EvalDataset:
        """Every task cut down by `EvalTask.subsample`."""
        tasks = {name: task.subsample(max_queries, max_docs, seed) for name, task in self.tasks.items()}
        return replace(self, tasks=tasks)


def _unknown_docs(
    ids: list[str], corpus: set[str], path: str, line: int, fld: str, lenient: bool, what: str
) -> list[str]:
    """The ids found in the corpus; unknown ones raise, or (lenient) are dropped with a warning."""
    missing = [d for d in ids if d not in corpus]
    if missing and not lenient:
        raise RecordError(path, line, fld, f"{what} not in the corpus: {missing[:5]}")
    if missing:
        log.warning("%s, line %d, field '%s': ignoring %s not in the corpus: %s", path, line, fld, what, missing[:5])
    return [d for d in ids if d in corpus]


def build_examples(
    name: str,
    doc_ids: list[str],
    doc_texts: list[str],
    rows: Rows,
    path: str,
    gold_field: str = "gold_ids",
    source: str = "",
    lenient: bool = False,
) -> EvalTask:
    """BRIGHT examples rows {id, query, gold_ids, excluded_ids} -> a validated EvalTask."""
    corpus = set(doc_ids)
    qids: list[str] = []
    texts: list[str] = []
    qrels: dict[str, dict[str, int]] = {}
    excluded: dict[str, list[str]] = {}
    first_line: dict[str, int] = {}
    dropped = 0
    for line, rec in rows:
        qid = record_id(rec.get("id"), path, line, "id")
        if qid in first_line:
            raise RecordError(path, line, "id", f"duplicate query id {qid!r} (first at line {first_line[qid]})")
        first_line[qid] = line
        query = rec.get("query")
        if not isinstance(query, str) or not query.strip():
            raise RecordError(path, line, "query", f"empty query for {qid!r}")
        gold = rec.get(gold_field)
        if not isinstance(gold, (list, tuple)) or not gold:
            raise RecordError(path, line, gold_field, f"query {qid!r} has no gold ids")
        gold = _unknown_docs([str(g) for g in gold], corpus, path, line, gold_field, lenient, "gold ids")
        excl = rec.get("excluded_ids") or []
        if not isinstance(excl, (list, tuple)):
            raise RecordError(path, line, "excluded_ids", "must be a list of document ids")
        excl = [str(e) for e in excl]
        clash = sorted(set(excl) & set(gold) - {"N/A"})
        if clash:
            raise RecordError(path, line, "excluded_ids", f"ids both excluded and gold for {qid!r}: {clash[:5]}")
        if not gold:
            dropped += 1
            continue
        qids.append(qid)
        texts.append(query)
        qrels[qid] = {g: 1 for g in gold}
        excluded[qid] = excl
    if dropped:
        log.warning("%s: dropped %d queries whose gold documents are all missing from the corpus", path, dropped)
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
    lenient: bool = False,
) -> EvalTask:
    """BEIR/R2MED style: queries {qid: text} + qrels rows (qid, docid, grade). Queries without
    qrels are dropped (BEIR convention); qrels naming unknown queries or documents are errors
    (documents: a warning with `lenient`)."""
    corpus = set(doc_ids)
    q_field, d_field, s_field = fields
    qrels: dict[str, dict[str, int]] = {}
    for line, rec in qrel_rows:
        qid = record_id(rec.get(q_field), path, line, q_field)
        did = record_id(rec.get(d_field), path, line, d_field)
        if qid not in queries:
            raise RecordError(path, line, q_field, f"query id {qid!r} is not in the queries file")
        if not _unknown_docs([did], corpus, path, line, d_field, lenient, "document id"):
            continue
        try:
            grade = int(float(rec.get(s_field, 1)))
        except (TypeError, ValueError):
            raise RecordError(path, line, s_field, f"relevance must be a number, got {rec.get(s_field)!r}") from None
        qrels.setdefault(qid, {})[did] = grade
    if not qrels:
        raise RecordError(path, None, None, "no qrels")
    qids = [q for q in queries if q in qrels]
    return EvalTask(name, doc_ids, doc_texts, qids, [queries[q] for q in qids], qrels, {q: [] for q in qids}, source)


def read_queries(rows: Rows, path: str, id_field: str, text_field: str) -> dict[str, str]:
    queries: dict[str, str] = {}
    first_line: dict[str, int] = {}
    for line, rec in rows:
        qid = record_id(rec.get(id_field), path, line, id_field)
        if qid in first_line:
            raise RecordError(path, line, id_field, f"duplicate query id {qid!r} (first at line {first_line[qid]})")
        text = rec.get(text_field)
        if not isinstance(text, str) or not text.strip():
            raise RecordError(path, line, text_field, f"empty query for {qid!r}")
        first_line[qid] = line
        queries[qid] = text
    return queries


def r2med_task(
    name: str,
    corpus: tuple[Rows, str],
    queries: tuple[Rows, str],
    qrels: tuple[Rows, str],
    source: str,
    lenient: bool = False,
) -> EvalTask:
    """R2MED's schema, wherever its three tables are read from (a folder or the hub): corpus
    {id or docid, text}, queries {id, text}, qrels {q_id, p_id, score}; each table is given as
    (rows, where its errors point)."""
    corpus_rows, corpus_where = corpus
    rows = iter(corpus_rows)
    head = list(itertools.islice(rows, 1))
    id_field = "id" if head and "id" in head[0][1] else "docid"
    ids, texts = build_corpus(itertools.chain(head, rows), corpus_where, id_field, ("text",))
    query_texts = read_queries(*queries, "id", "text")
    return attach_qrels(name, ids, texts, query_texts, *qrels, ("q_id", "p_id", "score"), source, lenient)


def files_digest(folder: Path) -> str:
    """sha256 over every file's relative path and bytes (the revision of a local dataset)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0")
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()
