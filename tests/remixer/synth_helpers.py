"""Helpers for ReMixer tests: a small synthetic corpus and a scripted OpenAI-compatible 'LLM'."""

from __future__ import annotations

import hashlib
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1] / "llm"))  # openai_server.py

from openai_server import Reply, completion  # noqa: E402

from reasonembed.remixer.prompts import SCORE_FOLLOWUP  # noqa: E402

WORDS = ("theorem integral matrix prime vector limit series graph probability eigenvalue entropy polynomial "
         "derivative lattice group field ring topology measure sequence convergence manifold tensor kernel").split()


def make_doc(i: int, n_words: int = 50) -> str:
    rng = random.Random(i)
    return f"Problem {i}: " + " ".join(rng.choice(WORDS) for _ in range(n_words)) + f". Compute the value for case {i}."


def write_corpus(path: Path, n: int = 40) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"d{i:03d}", "content": make_doc(i)}) + "\n")
    return path


def _h(text: str) -> int:
    return int(hashlib.md5(text.encode()).hexdigest()[:8], 16)


def brain(body: dict, n: int) -> Reply:
    """Deterministic answers by prompt type: same prompt -> same reply, in any order and any process."""
    prompt = body["messages"][-1]["content"]
    if prompt == SCORE_FOLLOWUP:  # judge follow-up: half of the score-less first answers get a score now
        h = _h(body["messages"][0]["content"])
        return Reply(body=completion(f"<score>{h % 5 + 1}</score>" if (h // 7) % 2 else "Still no number, sorry."))
    h = _h(prompt)
    if "Relevance Annotation" in prompt:
        if h % 7 == 0:
            return Reply(body=completion("I think it is somewhat related but I will not give a number."))
        return Reply(body=completion(f"1. Query Analysis: ...\n2. Document Analysis: ...\n3. <score>{h % 5 + 1}</score>"))
    if "Identify the essential problem" in prompt:
        return Reply(body=completion(f"<think>scratch</think>The problem needs knowledge of {WORDS[h % len(WORDS)]} theory."))
    if "Write a NEW math problem" in prompt:
        rng = random.Random(h)
        words = " ".join(rng.choice(WORDS) for _ in range(12))
        return Reply(body=completion(f'"How does one use {words} to evaluate a new quantity number {h % 1000}?"'))
    return Reply(body=completion("Yes"))




def synth_overrides(corpus: Path, run_dir: Path, base_url: str) -> list[str]:
    return [f"corpus={corpus}", f"run_dir={run_dir}", "domain=theoremqa_questions", "llm.backend=openai",
            "llm.model=scripted", f"llm.base_urls=[{base_url}]", "llm.max_concurrency=4", "llm.backoff_base_s=0.01",
            "clean.min_chars=100", "mine.top_k=5", "mine.search_k=20"]


def mine_own_queries(corpus: Path, run_dir: Path, embedder: Any, query_of: Callable[[dict], str],
                     n: int | None = None) -> list[dict]:
    """Clean `corpus`, write one query per cleaned document (the first `n`) as the generate stage
    would - id `q-<doc id>`, text `query_of(doc)` - and mine (top 5 of 40); returns the cleaned documents."""
    from reasonembed.config import load_config
    from reasonembed.io import read_jsonl
    from reasonembed.remixer.config import SynthConfig
    from reasonembed.remixer.pipeline import run_stage

    cfg = load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={run_dir}", "clean.min_chars=100",
                                          "mine.top_k=5", "mine.search_k=40"])
    run_stage("clean", cfg)
    docs = read_jsonl(run_dir / "clean" / "corpus.jsonl")
    queries = run_dir / "generate" / "queries.jsonl"
    queries.parent.mkdir(parents=True)
    with queries.open("w") as fh:
        for d in docs[:n]:
            fh.write(json.dumps({"id": f"q-{d['id']}", "source_id": d["id"], "domain": d["domain"], "instruction": "i",
                                 "query": query_of(d), "conditions": {}, "provenance": {}}) + "\n")
    run_stage("mine", cfg, embedder=embedder)
    return docs
