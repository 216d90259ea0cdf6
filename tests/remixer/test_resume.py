"""Kill a stage with SIGKILL mid-run, restart it: the same set of records, byte for byte, no duplicates."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import ScriptedOpenAIServer
from synth_helpers import brain, synth_overrides, write_corpus

from reasonembed.config import load_config
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_pipeline

OUTPUT = {"generate": "generate/queries.jsonl", "judge": "judge/judgements.jsonl"}


def _cli(stage: str, overrides: list[str]) -> list[str]:
    return [sys.executable, "-c", "from reasonembed.cli import main; main()", "synth", stage, *overrides]


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def _slow_brain(body, n):
    reply = brain(body, n)
    reply.delay_s = 0.05
    return reply


@pytest.mark.parametrize("stage", ["generate", "judge"])
def test_sigkill_mid_stage_then_resume(tmp_path, stage, minilm):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 40)
    with ScriptedOpenAIServer(_slow_brain) as server:
        base = tmp_path / "base"
        over = synth_overrides(corpus, base, server.base_url) + ["llm.max_concurrency=2", "mine.top_k=2"]
        cfg = load_config(SynthConfig, None, over)
        run_pipeline(cfg, stages=("clean", "generate", "mine") if stage == "judge" else ("clean",), embedder=minilm)
        ref, killed = tmp_path / "ref", tmp_path / "killed"
        shutil.copytree(base, ref)
        shutil.copytree(base, killed)
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        subprocess.run(_cli(stage, [*over, f"run_dir={ref}"]), check=True, env=env, capture_output=True)
        expected = _lines(ref / OUTPUT[stage])

        out = killed / OUTPUT[stage]
        proc = subprocess.Popen(_cli(stage, [*over, f"run_dir={killed}"]), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline and (not out.exists() or len(_lines(out)) < len(expected) // 3):
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        partial = len(_lines(out))
        assert 0 < partial < len(expected), "the stage must be killed mid-run"
        done = subprocess.run(_cli(stage, [*over, f"run_dir={killed}"]), env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    got = _lines(out)
    assert len(got) == len(set(got)) == len(expected)  # nothing lost, nothing duplicated
    assert sorted(got) == sorted(expected)  # byte-identical records (order may differ: completion order)
