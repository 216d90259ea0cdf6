"""Evaluation systems: the dense factory's cache use, hybrid fusion, wrappers, BEIR self-exclusion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reasonembed.evaluation.datasets import load_eval_dataset
from reasonembed.evaluation.runner import evaluate


def test_changed_model_settings_or_checkpoint_never_reuse_the_cache(
    tiny_task: Path, tmp_path: Path, minilm_path: str
) -> None:
    import torch

    from reasonembed.embedder import Embedder
    from reasonembed.encoding import encode_corpus

    cache_dir = tmp_path / "cache"

    def run(model, **kw):
        res = evaluate(model, tiny_task, cache_dir=cache_dir, instruction=None, **kw)
        return res["tasks"]["tiny"]["cache_hit"], res["tasks"]["tiny"]["metrics"]["ndcg@10"]

    base = Embedder(minilm_path)
    task = load_eval_dataset(tiny_task).tasks["tiny"]
    whole, hit = encode_corpus(base, task.doc_texts, corpus_key=task.corpus_hash(), cache_dir=tmp_path / "c")
    again, hit_again = encode_corpus(base, task.doc_texts, corpus_key=task.corpus_hash(), cache_dir=tmp_path / "c")
    assert (hit, hit_again) == (False, True)
    np.testing.assert_array_equal(again, whole)
    first = run(base)
    assert first[0] is False
    assert run(base) == (True, first[1])  # same model, same corpus: reused, same score
    for changed in ({"max_doc_length": 16}, {"pooling": "cls"}, {"dtype": "bf16"}):
        assert run(minilm_path, **changed)[0] is False, changed
    saved = base.save(tmp_path / "copy")
    assert run(str(saved))[0] is True  # identical weights and settings under another path
    tuned = Embedder(str(saved))
    with torch.no_grad():
        next(tuned.backbone.parameters())[0, 0] += 1e-3  # "a new checkpoint"
    assert run(tuned)[0] is False
    assert len(list(cache_dir.glob("*.npy"))) == 5



def _read_run(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        qid, _, docid, *_ = line.split()
        out.setdefault(qid, []).append(docid)
    return out


def test_hybrid_rrf_end_to_end_equals_fusing_the_two_runs(tiny_task: Path, tmp_path: Path, minilm_embedder) -> None:
    dense = evaluate(minilm_embedder, tiny_task, instruction=None, out_dir=tmp_path / "dense", top_k=100)
    bm25 = evaluate("bm25", tiny_task, out_dir=tmp_path / "bm25", top_k=100)
    hybrid = evaluate(
        minilm_embedder, tiny_task, instruction=None, hybrid="bm25", fusion="rrf", out_dir=tmp_path / "hy", top_k=100
    )
    assert hybrid["manifest"]["model"]["kind"] == "hybrid" and hybrid["manifest"]["model"]["fusion"] == "rrf"
    a, b = (_read_run(tmp_path / d / "runs" / "tiny.trec") for d in ("dense", "bm25"))
    fused = _read_run(tmp_path / "hy" / "runs" / "tiny.trec")
    for qid in fused:
        scores: dict[str, float] = {}
        for ranking in (a[qid], b[qid]):
            for rank, docid in enumerate(ranking, start=1):
                scores[docid] = scores.get(docid, 0.0) + 1 / (60 + rank)
        expected = sorted(scores, key=lambda d: (scores[d], d), reverse=True)
        assert fused[qid] == expected, qid
    assert "d03" not in fused["q2"]  # excluded on both sides
    assert dense["tasks"]["tiny"]["cache_hit"] is False and bm25["manifest"]["model"]["kind"] == "bm25"


def test_cli_hybrid_composes(tiny_task: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reasonembed.cli import app

    out = tmp_path / "o"
    args = ["eval", "--model", "bm25", "--hybrid", "bm25q", "--fusion", "score", "--dataset", str(tiny_task)]
    res = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert res.exit_code == 0, res.output
    model = __import__("json").loads((out / "results.json").read_text())["manifest"]["model"]
    assert model["kind"] == "hybrid" and model["fusion"] == "score"
    assert (model["first"]["variant"], model["second"]["variant"]) == ("classic", "bm25q")


def test_wrappers_are_applied_per_task_on_top_of_the_factory(tiny_task: Path) -> None:
    from reasonembed.retrieval.bm25 import BM25Searcher
    from reasonembed.retrieval.fusion import fuse

    seen: list[str] = []

    def add_bm25q(inner, task):
        seen.append(task.name)
        return fuse(inner, BM25Searcher(task.doc_ids, task.doc_texts, "bm25q"), "rrf")

    wrapped = evaluate("bm25", tiny_task, wrappers=[add_bm25q])
    composed = evaluate("bm25", tiny_task, hybrid="bm25q", fusion="rrf")
    assert seen == ["tiny"]
    assert wrapped["tasks"]["tiny"]["per_query"] == composed["tasks"]["tiny"]["per_query"]


def test_a_factory_object_and_its_name_give_the_same_scores(tiny_task: Path) -> None:
    from reasonembed.evaluation.systems import BM25Factory, build_searcher_factory

    factory = build_searcher_factory("bm25q")
    assert isinstance(factory, BM25Factory) and build_searcher_factory(factory) is factory
    assert evaluate(factory, tiny_task)["average"] == evaluate("bm25q", tiny_task)["average"]


def _beir(folder: Path, jsonl_writer) -> Path:
    # document "1" shares its id with query "1" and repeats the query's words: BM25 ranks it first
    jsonl_writer(folder / "corpus.jsonl", [
        {"_id": "1", "title": "", "text": "why do leaves change colour in autumn"},
        {"_id": "a", "title": "", "text": "chlorophyll breaks down in autumn so leaves change colour"},
        {"_id": "b", "title": "", "text": "the stock market fell on monday"},
    ])
    jsonl_writer(folder / "queries.jsonl", [{"_id": "1", "text": "why do leaves change colour in autumn"}])
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\ta\t1\n")
    return folder


def test_beir_drops_a_hit_whose_docid_is_the_query_id_by_default(tmp_path: Path, jsonl_writer) -> None:
    folder = _beir(tmp_path / "beir", jsonl_writer)
    default = evaluate("bm25", folder, out_dir=tmp_path / "o1")
    assert default["manifest"]["benchmark"]["self_exclude"] is True
    assert _read_run(tmp_path / "o1" / "runs" / "beir.trec")["1"] == ["a", "b"]
    assert default["average"]["ndcg@10"] == 1.0
    kept = evaluate("bm25", folder, self_exclude=False, out_dir=tmp_path / "o2")
    assert _read_run(tmp_path / "o2" / "runs" / "beir.trec")["1"][0] == "1"
    assert kept["average"]["ndcg@10"] < 1.0


def test_lenient_mode_warns_on_qrels_naming_missing_documents(
    tmp_path: Path, jsonl_writer, task_factory, fixture_records, caplog: pytest.LogCaptureFixture
) -> None:
    from reasonembed.errors import RecordError

    folder = _beir(tmp_path / "beir", jsonl_writer)
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\ta\t1\n1\tgone\t1\n")
    with pytest.raises(RecordError, match="not in the corpus"):
        load_eval_dataset(folder)
    with caplog.at_level("WARNING"):
        ds = load_eval_dataset(folder, lenient=True)
    assert ds.tasks["beir"].qrels == {"1": {"a": 1}}
    assert "test.tsv, line 3, field 'corpus-id'" in caplog.text and "gone" in caplog.text
    docs, examples = fixture_records
    bright = task_factory(tmp_path / "b", docs, [dict(examples[0], gold_ids=["d01", "zz"]), *examples[1:]])
    with pytest.raises(RecordError, match="not in the corpus"):
        load_eval_dataset(bright)
    assert load_eval_dataset(bright, lenient=True).tasks["b"].qrels["q1"] == {"d01": 1}


def test_rescore_an_existing_run_gives_the_same_scores(tiny_task: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from reasonembed.cli import app
    from reasonembed.evaluation.runner import rescore

    original = evaluate("bm25q", tiny_task, out_dir=tmp_path / "o")
    again = rescore(tmp_path / "o" / "runs" / "tiny.trec", tiny_task)
    assert again["tasks"]["tiny"]["per_query"] == original["tasks"]["tiny"]["per_query"]
    assert rescore(tmp_path / "o" / "runs", tiny_task)["average"] == original["average"]
    res = CliRunner().invoke(
        app, ["eval", "--rescore", str(tmp_path / "o" / "runs"), "--dataset", str(tiny_task), "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 0, res.output
    assert __import__("json").loads((tmp_path / "r" / "results.json").read_text())["average"] == pytest.approx(
        original["average"]
    )


def test_rescore_drops_excluded_ids_from_a_foreign_run(tiny_task: Path, tmp_path: Path) -> None:
    from reasonembed.evaluation.runner import rescore

    run = tmp_path / "foreign.trec"
    run.write_text("q2 Q0 d03 1 9.0 x\nq2 Q0 d08 2 8.0 x\n")  # d03 is excluded for q2
    assert rescore(run, tiny_task)["tasks"]["tiny"]["per_query"]["q2"]["ndcg@10"] == 1.0
    run.write_text("q2 Q0 d03 1 nine x\n")
    from reasonembed.errors import RecordError

    with pytest.raises(RecordError, match="line 1, field 'score'"):
        rescore(run, tiny_task)


def test_results_md_ends_with_one_leaderboard_row(tiny_task: Path, tmp_path: Path) -> None:
    results = evaluate("bm25", tiny_task, out_dir=tmp_path / "o")
    last = (tmp_path / "o" / "results.md").read_text().rstrip("\n").splitlines()[-1]
    ndcg = f"{100 * results['average']['ndcg@10']:.2f}"
    assert last == f"| bm25 | tiny | examples | {ndcg} | tiny {ndcg} |"


def test_the_bundled_model_is_named_portably_in_results(tiny_task: Path, tmp_path: Path) -> None:
    results = evaluate("minilm", tiny_task, instruction=None, out_dir=tmp_path / "o")
    assert results["manifest"]["model"]["model"] == "minilm"  # not the venv path it is installed at
    last = (tmp_path / "o" / "results.md").read_text().rstrip("\n").splitlines()[-1]
    assert last.startswith("| minilm | tiny | examples | ")
