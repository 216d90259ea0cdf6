"""Every loader, and every validation error naming its file, line and field."""

from __future__ import annotations

import copy
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from reasonembed.errors import ConfigError, RecordError
from reasonembed.evaluation.benchmarks import BRIGHT_REVISION
from reasonembed.evaluation.datasets import load_eval_dataset


def test_local_bright_jsonl(tiny_task: Path) -> None:
    ds = load_eval_dataset(tiny_task)
    task = ds.tasks["tiny"]
    assert ds.kind == "local" and ds.revision.startswith("sha256:")
    assert task.doc_ids[:2] == ["d01", "d02"] and len(task.doc_ids) == 10
    assert task.query_ids == ["q1", "q2", "q3", "q4"]
    assert task.qrels["q1"] == {"d01": 1, "d07": 1}
    assert task.excluded["q2"] == ["d03"] and task.excluded["q1"] == ["N/A"]


def test_local_parquet(tmp_path: Path, fixture_records) -> None:
    docs, examples = fixture_records
    folder = tmp_path / "pq"
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(docs), folder / "documents.parquet")
    pq.write_table(pa.Table.from_pylist(examples), folder / "examples.parquet")
    task = load_eval_dataset(folder).tasks["pq"]
    assert len(task.doc_ids) == 10 and task.qrels["q3"] == {"d10": 1, "d06": 1}


def test_multi_task_folder_and_task_filter(tmp_path: Path, task_factory) -> None:
    task_factory(tmp_path / "root" / "alpha")
    task_factory(tmp_path / "root" / "beta")
    ds = load_eval_dataset(tmp_path / "root")
    assert list(ds.tasks) == ["alpha", "beta"]
    assert list(load_eval_dataset(tmp_path / "root", tasks=["beta"]).tasks) == ["beta"]
    with pytest.raises(ConfigError, match="gamma"):
        load_eval_dataset(tmp_path / "root", tasks=["gamma"])


def test_query_variant_and_long_documents(tiny_task: Path, jsonl_writer, fixture_records) -> None:
    docs, examples = fixture_records
    reasoned = [dict(e, query="REASONED " + e["query"]) for e in examples]
    jsonl_writer(tiny_task / "gpt4_reason.jsonl", reasoned)
    task = load_eval_dataset(tiny_task, query_variant="gpt4_reason").tasks["tiny"]
    assert task.query_texts[0].startswith("REASONED ")
    with pytest.raises(FileNotFoundError, match="grit_reason"):
        load_eval_dataset(tiny_task, query_variant="grit_reason")
    jsonl_writer(
        tiny_task / "long_documents.jsonl",
        [{"id": "L1", "content": "long one"}, {"id": "L2", "content": "x"}],
    )
    jsonl_writer(tiny_task / "examples.jsonl", [dict(e, gold_ids_long=["L1"]) for e in examples])
    long_task = load_eval_dataset(tiny_task, long_documents=True).tasks["tiny"]
    assert long_task.doc_ids == ["L1", "L2"] and long_task.qrels["q1"] == {"L1": 1}


def test_beir_folder(tmp_path: Path, jsonl_writer) -> None:
    folder = tmp_path / "scifact"
    jsonl_writer(
        folder / "corpus.jsonl",
        [{"_id": "a", "title": "Title A", "text": "body a"}, {"_id": "b", "title": "", "text": "body b"}],
    )
    jsonl_writer(folder / "queries.jsonl", [{"_id": "1", "text": "q one"}, {"_id": "2", "text": "q two"}])
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\ta\t2\n1\tb\t0\n")
    ds = load_eval_dataset(folder)
    task = ds.tasks["scifact"]
    assert ds.kind == "beir" and task.doc_texts == ["Title A body a", "body b"]
    assert task.query_ids == ["1"] and task.qrels == {"1": {"a": 2, "b": 0}}  # query 2 has no qrels: dropped


def test_r2med_folder(tmp_path: Path, jsonl_writer) -> None:
    folder = tmp_path / "Biology"
    jsonl_writer(folder / "corpus.jsonl", [{"id": "p1", "text": "cells"}, {"id": "p2", "text": "genes"}])
    jsonl_writer(folder / "query.jsonl", [{"id": "q1", "text": "what is a cell"}])
    jsonl_writer(folder / "qrels.jsonl", [{"q_id": "q1", "p_id": "p1", "score": 1}])
    ds = load_eval_dataset(folder)
    assert ds.kind == "r2med" and ds.benchmark == "r2med"
    assert ds.tasks["Biology"].qrels == {"q1": {"p1": 1}}


def _hub_snapshot(root: Path, docs, examples, extra_config: str | None = None) -> Path:
    """The layout of a local copy of the xlangai/BRIGHT hub repository (parquet + README configs)."""
    configs = {"documents": docs, "examples": examples}
    if extra_config:
        configs[extra_config] = [dict(e, query="R: " + e["query"]) for e in examples]
    lines = ["---", "configs:"]
    for name, rows in configs.items():
        (root / name).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), root / name / "biology-00000-of-00001.parquet")
        lines += [
            f"- config_name: {name}",
            "  data_files:",
            "  - split: biology",
            f"    path: {name}/biology-*",
        ]
    (root / "README.md").write_text("\n".join(lines + ["---", ""]))
    return root


def test_bright_hub_code_path_on_local_snapshot(tmp_path: Path, fixture_records) -> None:
    cache = str(tmp_path / "hf-cache")
    docs, examples = fixture_records
    examples = [dict(e, gold_ids_long=e["gold_ids"], reasoning="") for e in examples]
    snap = _hub_snapshot(tmp_path / "BRIGHT", docs, examples, "gpt4_reason")
    ds = load_eval_dataset(snap, tasks=["biology"], cache_dir=cache)
    assert ds.kind == "bright" and ds.benchmark == "bright"
    assert ds.tasks["biology"].qrels["q2"] == {"d08": 1} and ds.tasks["biology"].excluded["q2"] == ["d03"]
    reasoned = load_eval_dataset(snap, tasks=["biology"], query_variant="gpt4_reason", cache_dir=cache)
    assert reasoned.tasks["biology"].query_texts[0].startswith("R: ")
    with pytest.raises(ConfigError, match="unknown BRIGHT task"):
        load_eval_dataset(snap, tasks=["chemistry"], cache_dir=cache)
    assert len(BRIGHT_REVISION) == 40


def test_dev_sets_load(shared_data: Path) -> None:
    task = load_eval_dataset(shared_data / "theoremqa_q_dev").tasks["theoremqa_q_dev"]
    assert (len(task.doc_ids), len(task.query_ids)) == (387, 151)
    assert all(qid in task.excluded[qid] for qid in task.query_ids[:5])  # a query's own id is excluded


def test_unknown_folder_and_missing_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a dataset folder"):
        load_eval_dataset(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such dataset"):
        load_eval_dataset(tmp_path / "nope")


# ----------------------------------------------------------------------------- validation errors
def _broken(tmp_path: Path, task_factory, fixture_records, *, doc_edit=None, ex_edit=None) -> Path:
    docs, examples = copy.deepcopy(fixture_records)
    if doc_edit:
        doc_edit(docs)
    if ex_edit:
        ex_edit(examples)
    return task_factory(tmp_path / "bad", docs, examples)


@pytest.mark.parametrize(
    ("doc_edit", "ex_edit", "file", "line", "field", "words"),
    [
        (lambda d: d[2].pop("id"), None, "documents.jsonl", 3, "id", "missing or empty id"),
        (lambda d: d[4].update(id="d01"), None, "documents.jsonl", 5, "id", "duplicate document id 'd01'"),
        (lambda d: d[1].pop("content"), None, "documents.jsonl", 2, "content", "missing document text"),
        (None, lambda e: e[1].update(id=""), "examples.jsonl", 2, "id", "missing or empty id"),
        (None, lambda e: e[3].update(id="q1"), "examples.jsonl", 4, "id", "duplicate query id 'q1'"),
        (None, lambda e: e[2].update(query="   "), "examples.jsonl", 3, "query", "empty query"),
        (None, lambda e: e[0].update(gold_ids=[]), "examples.jsonl", 1, "gold_ids", "no gold ids"),
        (
            None,
            lambda e: e[1].update(gold_ids=["d08", "zz"]),
            "examples.jsonl",
            2,
            "gold_ids",
            "not in the corpus",
        ),
        (
            None,
            lambda e: e[3].update(excluded_ids=["d05"]),
            "examples.jsonl",
            4,
            "excluded_ids",
            "both excluded and gold",
        ),
    ],
)
def test_validation_errors_name_file_line_field(
    tmp_path, task_factory, fixture_records, doc_edit, ex_edit, file, line, field, words
) -> None:
    folder = _broken(tmp_path, task_factory, fixture_records, doc_edit=doc_edit, ex_edit=ex_edit)
    with pytest.raises(RecordError) as info:
        load_eval_dataset(folder)
    err = info.value
    assert err.path.endswith(file) and err.line == line and err.field == field
    assert words in str(err) and file in str(err) and f"line {line}" in str(err)


def test_na_in_excluded_never_clashes_with_gold(tmp_path, task_factory, fixture_records) -> None:
    folder = _broken(
        tmp_path, task_factory, fixture_records, ex_edit=lambda e: e[0].update(excluded_ids=["N/A", "N/A"])
    )
    assert load_eval_dataset(folder).tasks["bad"].excluded["q1"] == ["N/A", "N/A"]


def test_invalid_json_line(tmp_path, task_factory) -> None:
    folder = task_factory(tmp_path / "bad")
    with (folder / "examples.jsonl").open("a") as handle:
        handle.write("{not json\n")
    with pytest.raises(RecordError, match=r"examples.jsonl, line 5: invalid JSON"):
        load_eval_dataset(folder)


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ("7\ta\t1", "query-id", "not in the queries file"),
        ("1\tzz\t1", "corpus-id", "not in the corpus"),
        ("1\ta\thigh", "score", "must be a number"),
    ],
)
def test_beir_qrels_errors(tmp_path: Path, jsonl_writer, row, field, words) -> None:
    folder = tmp_path / "beir"
    jsonl_writer(folder / "corpus.jsonl", [{"_id": "a", "text": "x"}])
    jsonl_writer(folder / "queries.jsonl", [{"_id": "1", "text": "q"}])
    (folder / "qrels").mkdir()
    (folder / "qrels" / "test.tsv").write_text(f"query-id\tcorpus-id\tscore\n1\ta\t1\n{row}\n")
    with pytest.raises(RecordError) as info:
        load_eval_dataset(folder)
    assert info.value.line == 3 and info.value.field == field and words in str(info.value)
    assert "test.tsv" in str(info.value)


def test_hub_loaders_do_not_import_the_dataset_dispatcher() -> None:
    """No datasets.py <-> hub.py cycle: the hub loaders stand on tasks.py and corpus.py alone."""
    import subprocess
    import sys

    code = "import sys, reasonembed.evaluation.hub; assert 'reasonembed.evaluation.datasets' not in sys.modules, 'cycle'"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_bright_instructions_exist_once_and_remixer_reads_them() -> None:
    import inspect

    from reasonembed.evaluation.benchmarks import BENCHMARKS, BRIGHT_INSTRUCTIONS
    from reasonembed.remixer import prompts

    assert set(BENCHMARKS) == {"bright", "r2med", "beir", "local"}
    assert BENCHMARKS["bright"].instructions is BRIGHT_INSTRUCTIONS
    assert {t: prompts.BRIGHT_DOMAINS[t].instruction for t in BRIGHT_INSTRUCTIONS} == BRIGHT_INSTRUCTIONS
    assert "retrieve relevant" not in inspect.getsource(prompts)  # no second copy of the wording
