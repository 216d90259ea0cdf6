"""Re-running with a changed config rebuilds what that config changes (and everything downstream), never
silently keeping stale output; `config.json` says, per stage, what each output was built with."""

from __future__ import annotations

import json

import pytest
from synth_helpers import make_doc, synth_overrides, write_corpus

from reasonembed.config import load_config
from reasonembed.errors import ConfigError
from reasonembed.io import read_jsonl
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_pipeline


def _planted(tmp_path):
    evalset = tmp_path / "evalset"
    evalset.mkdir()
    gold = make_doc(500)
    (evalset / "examples.jsonl").write_text(
        json.dumps({"id": "e1", "query": make_doc(502, 30), "gold_ids": ["g1"], "excluded_ids": []}) + "\n")
    (evalset / "documents.jsonl").write_text(json.dumps({"id": "g1", "content": gold}) + "\n")
    corpus = write_corpus(tmp_path / "c.jsonl", 12)
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "planted-gold", "content": gold}) + "\n")
    return corpus, evalset


def test_adding_decontamination_to_an_existing_run_removes_the_gold_documents(tmp_path):
    corpus, evalset = _planted(tmp_path)
    base = [f"corpus={corpus}", f"run_dir={tmp_path / 'run'}", "clean.min_chars=100"]
    run_pipeline(load_config(SynthConfig, None, base), stages=("clean",))
    assert "planted-gold" in {r["id"] for r in read_jsonl(tmp_path / "run" / "clean" / "corpus.jsonl")}
    out = run_pipeline(load_config(SynthConfig, None, [*base, f"clean.decontaminate=[{evalset}]"]), stages=("clean",))
    kept = [r["id"] for r in read_jsonl(tmp_path / "run" / "clean" / "corpus.jsonl")]
    assert "planted-gold" not in kept and len(kept) == len(set(kept)) == 12
    assert out["clean"].summary["counts"]["dropped_decontamination"] == 1
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["stages"]["clean"]["config"]["clean"]["decontaminate"] == [str(evalset)]


@pytest.fixture
def first_run(tmp_path, llm_server, minilm):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 16)
    over = synth_overrides(corpus, tmp_path / "run", llm_server.base_url)  # mine.top_k=5
    run_pipeline(load_config(SynthConfig, None, over), stages=("clean", "generate", "mine"), embedder=minilm)
    return over


def test_more_candidates_after_a_top5_run_remines(tmp_path, first_run, minilm):
    run_dir = tmp_path / "run"
    assert {len(r["candidates"]) for r in read_jsonl(run_dir / "mine" / "candidates.jsonl")} == {5}
    run_pipeline(load_config(SynthConfig, None, [*first_run, "mine.top_k=10"]), stages=("mine",), embedder=minilm)
    records = read_jsonl(run_dir / "mine" / "candidates.jsonl")
    assert len(records) == 16 and {len(r["candidates"]) for r in records} == {10}
    assert json.loads((run_dir / "config.json").read_text())["stages"]["mine"]["config"]["mine"]["top_k"] == 10


def test_another_model_regenerates_and_stale_downstream_is_refused(tmp_path, first_run, llm_server, minilm):
    run_dir = tmp_path / "run"
    calls = llm_server.calls
    cfg = load_config(SynthConfig, None, [*first_run, "llm.model=another-model"])
    run_pipeline(cfg, stages=("generate",))
    queries = read_jsonl(run_dir / "generate" / "queries.jsonl")
    assert len(queries) == 16 and {q["provenance"]["model"] for q in queries} == {"another-model"}
    assert llm_server.calls >= calls + 16
    assert {b["model"] for b in llm_server.bodies[calls:]} == {"another-model"}
    # mine's output was built from the old queries: a stage that needs it must not use it
    with pytest.raises(ConfigError, match="'mine' has no output built with this config"):
        run_pipeline(cfg, stages=("judge",))
    run_pipeline(cfg, stages=("mine",), embedder=minilm)
    mined = {r["query_id"] for r in read_jsonl(run_dir / "mine" / "candidates.jsonl")}
    assert mined == {q["id"] for q in queries}
    config = json.loads((run_dir / "config.json").read_text())["stages"]
    assert config["generate"]["config"]["llm"]["model"] == "another-model"


def test_unchanged_config_reuses_every_stage(tmp_path, first_run, llm_server, minilm):
    calls = llm_server.calls
    out = run_pipeline(load_config(SynthConfig, None, first_run), stages=("clean", "generate", "mine"), embedder=minilm)
    assert all(o.reused for o in out.values()) and llm_server.calls == calls
    # how fast or where it is served is not part of the key
    out = run_pipeline(load_config(SynthConfig, None, [*first_run, "llm.max_concurrency=2", "llm.timeout_s=9"]),
                       stages=("generate",))
    assert out["generate"].reused and llm_server.calls == calls
