"""End-to-end quickstart runs with tiny sizes: against a local OpenAI-compatible server, and with the
bundled SmolLM2 (the default path). Both go through the real `reasonembed quickstart` command."""

from __future__ import annotations

import json
import re

import torch
from typer.testing import CliRunner

from reasonembed.cli import app
from reasonembed.embedder import Embedder

TINY = ["--set", "threads=1", "--docs", "4", "--candidates", "3", "--audit-queries", "3", "--epochs", "1",
        "--set", "redapter.train.per_device_train_batch_size=4", "--set", "train.min_samples=2",
        "--set", "redapter.model.max_query_length=64", "--set", "redapter.model.max_passage_length=64",
        "--set", "eval.entailmentbank_queries=8", "--set", "eval.entailmentbank_docs=300",
        "synth.generate.sampling.max_tokens=48", "synth.judge.sampling.max_tokens=48", "synth.reason.sampling.max_tokens=32"]


def _run(args):
    result = CliRunner().invoke(app, ["quickstart", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def test_quickstart_against_openai_compatible_server(tmp_path, scripted_llm):
    out = tmp_path / "qs"
    _run(["--out", str(out), "--llm-url", scripted_llm.base_url, "--llm-model", "scripted", *TINY])
    assert scripted_llm.calls > 0  # every LLM stage went over HTTP

    report = (out / "report.md").read_text()
    for heading in ("## Results", "## Judge audit", "## What improved and what did not", "## Stages and wall time"):
        assert heading in report
    results = json.loads((out / "evaluate" / "results.json").read_text())
    systems = results["systems"]
    assert {"BM25", "MiniLM (base)", "MiniLM + gold pairs (InfoNCE)", "MiniLM + ReMixer data (RI-InfoNCE)"} <= set(systems)
    assert set(systems["BM25"]) == {"eval", "train", "entailmentbank"}
    # the scripted judge scores by hash, so positives and negatives exist and RI-InfoNCE trained on them
    remix = json.loads((out / ".stages" / "train_remix.json").read_text())["summary"]
    assert remix["samples"] >= 2 and remix["steps"] >= 1 and remix["ri_per_sample"]["trained"]
    assert (out / "report" / "loss.png").exists() and (out / "audit" / "judge_audit.png").exists()
    audit = json.loads((out / "audit" / "audit.json").read_text())
    assert audit["n_pairs"] == 6 and audit["n_scored"] == 6  # every scripted reply carries a <score>
    # `threads=1` holds for every stage, the index included; the index's fingerprint (a byte hash of the
    # weights) is the model's at any thread count, so `reasonembed serve` with default threads accepts it
    assert torch.get_num_threads() == 1
    manifest = json.loads((out / "index" / "manifest.json").read_text())
    index = json.loads((out / ".stages" / "index.json").read_text())["summary"]
    torch.set_num_threads(2)
    try:
        assert Embedder(index["model"]).fingerprint == manifest["fingerprint"]
    finally:
        torch.set_num_threads(1)
    report = (out / "report.md").read_text()
    bottom = report.split("## Bottom line")[1].split("## ")[0]
    assert "**MiniLM + ReMixer data (RI-InfoNCE)** on the eval part" in bottom  # the trained rows, picked by role
    assert "**MiniLM (base) + instruction**" not in bottom and "**BM25" not in bottom

    # the eval part never shares a theorem or a document with the train part
    split = json.loads((out / "data" / "split.json").read_text())
    assert not set(split["theorems"]["train"]) & set(split["theorems"]["eval"])

    calls = scripted_llm.calls
    second = _run(["--out", str(out), "--llm-url", scripted_llm.base_url, "--llm-model", "scripted", *TINY])
    assert scripted_llm.calls == calls  # nothing re-asked of the LLM
    assert "reused from an earlier run" in second.output
    for stage in ("train_gold", "train_remix", "evaluate", "index"):  # the Redapter config's key is stable
        assert re.search(rf"\] {stage} .*: reused from an earlier run", second.output), stage


def test_quickstart_with_bundled_smollm2_tiny(tmp_path):
    """The default LLM path (SmolLM2 in process), shrunk to a couple of calls per stage."""
    out = tmp_path / "qs"
    _run(["--out", str(out), *TINY, "--docs", "2", "--candidates", "2", "--audit-queries", "2", "--no-entailmentbank",
          "--set", "index=false", "--set", "train.gold_max_queries=8", "--set", "llm.batch_size=4"])
    report = (out / "report.md").read_text()
    assert "SmolLM2" in report and "## Judge audit" in report
    audit = json.loads((out / "audit" / "audit.json").read_text())
    assert audit["n_pairs"] == 4 and audit["n_scored"] + audit["n_unparsed"] == 4  # never guessed
    results = json.loads((out / "evaluate" / "results.json").read_text())["systems"]
    assert "MiniLM + gold pairs (InfoNCE)" in results and set(results["BM25"]) == {"eval", "train"}
    remix = json.loads((out / ".stages" / "train_remix.json").read_text())["summary"]
    if remix.get("skipped"):  # SmolLM2 rarely yields both a positive and a negative: the report must say so
        assert "Too few synthetic samples to train on" in report
