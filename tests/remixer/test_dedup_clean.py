from __future__ import annotations

import json

from synth_helpers import make_doc, write_corpus

from reasonembed.config import load_config
from reasonembed.io import read_jsonl
from reasonembed.remixer import dedup
from reasonembed.remixer.clean import run_clean
from reasonembed.remixer.config import SynthConfig


def test_minhash_proposes_near_duplicates_and_is_deterministic():
    a = make_doc(1, 80)
    b = a.replace("Compute", "compute").replace("value", "values")  # tiny edit
    c = make_doc(2, 80)
    lsh = dedup.MinHashLSH(128, 4)
    lsh.add("a", dedup.shingles(a))
    lsh.add("c", dedup.shingles(c))
    assert "a" in lsh.query(dedup.shingles(b))
    assert dedup.jaccard(dedup.shingles(a), dedup.shingles(b)) > 0.9
    assert dedup.jaccard(dedup.shingles(a), dedup.shingles(c)) < 0.5
    sig = dedup.MinHashLSH(128, 4).signature(dedup.shingles(a))
    assert (sig == dedup.MinHashLSH(128, 4).signature(dedup.shingles(a))).all()


def _cfg(tmp_path, corpus, *extra):
    return load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={tmp_path / 'run'}", "clean.min_chars=100", *extra])


def test_clean_length_exact_and_near_duplicates(tmp_path):
    corpus = write_corpus(tmp_path / "c.jsonl", 10)
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "short", "content": "too short"}) + "\n")
        fh.write(json.dumps({"id": "exact", "content": "  " + make_doc(3).upper() + " "}) + "\n")
        fh.write(json.dumps({"id": "near", "content": make_doc(4).replace("Compute", "Find")}) + "\n")
        fh.write(json.dumps({"id": "long", "content": "x " * 3000}) + "\n")
    result = run_clean(_cfg(tmp_path, corpus))
    kept = [r["id"] for r in read_jsonl(result.output)]
    assert kept == [f"d{i:03d}" for i in range(10)]
    assert result.counts["dropped_length"] == 2
    assert result.counts["dropped_exact_duplicate"] == 1 and result.counts["dropped_near_duplicate"] == 1
    again = run_clean(_cfg(tmp_path, corpus))  # resume: nothing new, nothing duplicated
    assert again.counts["written"] == 0 and len(read_jsonl(again.output)) == 10


def test_decontamination_removes_planted_gold_documents(tmp_path):
    evalset = tmp_path / "evalset"
    evalset.mkdir()
    gold_a, gold_b, query_text = make_doc(500), make_doc(501), make_doc(502, 30)
    (evalset / "examples.jsonl").write_text(
        json.dumps({"id": "e1", "query": query_text, "gold_ids": ["g1", "g2"], "excluded_ids": []}) + "\n")
    (evalset / "documents.jsonl").write_text(
        json.dumps({"id": "g1", "content": gold_a}) + "\n" + json.dumps({"id": "g2", "content": gold_b}) + "\n"
        + json.dumps({"id": "other", "content": make_doc(503)}) + "\n")
    corpus = write_corpus(tmp_path / "c.jsonl", 12)
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "planted-exact", "content": gold_a}) + "\n")
        fh.write(json.dumps({"id": "planted-near", "content": gold_b.replace("Problem", "Exercise")}) + "\n")
        fh.write(json.dumps({"id": "planted-query", "content": "Homework. " + query_text + " Show all your work please."}) + "\n")
        fh.write(json.dumps({"id": "not-gold", "content": make_doc(503)}) + "\n")  # in the eval corpus, but not gold
    result = run_clean(_cfg(tmp_path, corpus, f"clean.decontaminate=[{evalset}]"))
    kept = {r["id"] for r in read_jsonl(result.output)}
    assert not {"planted-exact", "planted-near", "planted-query"} & kept
    assert "not-gold" in kept and {f"d{i:03d}" for i in range(12)} <= kept
    assert result.counts["dropped_decontamination"] == 3
    report = json.loads((result.output.parent / "report.json").read_text())
    assert report["decontamination_by_set"] == {"evalset": 3}
    assert sorted(report["dropped_ids"]["decontamination"]) == ["planted-exact", "planted-near", "planted-query"]
    # without decontamination the planted documents survive (the check above can fail)
    plain = run_clean(_cfg(tmp_path, corpus, f"run_dir={tmp_path / 'plain'}"))
    assert {"planted-exact", "planted-near", "planted-query"} <= {r["id"] for r in read_jsonl(plain.output)}
