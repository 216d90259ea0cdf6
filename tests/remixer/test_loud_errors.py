"""Bad input and systematic failure end as one clear `error:` line and exit 2, never a traceback, never an
empty train.jsonl with exit 0; two runs on one run folder are refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from openai_server import Reply, ScriptedOpenAIServer
from synth_helpers import make_doc, synth_overrides, write_corpus

from reasonembed.config import load_config
from reasonembed.errors import RecordError
from reasonembed.io import FolderLock, FolderLockedError, read_jsonl
from reasonembed.remixer.config import SynthConfig
from reasonembed.remixer.pipeline import run_pipeline


def _synth(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-c", "from reasonembed.cli import main; main()", "synth", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def _clean(tmp_path, corpus):
    cfg = load_config(SynthConfig, None, [f"corpus={corpus}", f"run_dir={tmp_path / 'run'}", "clean.min_chars=100"])
    return run_pipeline(cfg, stages=("clean",))


def test_every_llm_call_refused_exits_2_naming_the_cause_and_writes_no_training_data(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 12)
    with ScriptedOpenAIServer(lambda body, n: Reply(404, {"error": "The model `scripted` does not exist."})) as server:
        done = _synth("run", *synth_overrides(corpus, tmp_path / "run", server.base_url))
    assert done.returncode == 2, done.stdout + done.stderr
    assert "error:" in done.stderr and "http 404" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "run" / "assemble" / "train.jsonl").exists()


def test_non_utf8_corpus_line_is_an_error_line_naming_file_and_line(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 3)
    with corpus.open("ab") as fh:
        fh.write(b'{"id": "bad", "content": "caf\xe9 au lait"}\n')
    done = _synth("clean", f"corpus={corpus}", f"run_dir={tmp_path / 'run'}")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"error: {corpus}, line 4: not valid UTF-8" in done.stderr


def test_duplicate_id_with_different_text_names_both_lines(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 5)
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "d002", "content": make_doc(99)}) + "\n")
    with pytest.raises(RecordError, match=r"line 6, field 'id': duplicate document id 'd002' .* line 3"):
        _clean(tmp_path, corpus)


def test_identical_repeated_record_is_kept_once_and_counted(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 5)
    with corpus.open("a") as fh:
        fh.write(json.dumps({"id": "d002", "content": make_doc(2)}) + "\n")
    out = _clean(tmp_path, corpus)
    ids = [r["id"] for r in read_jsonl(tmp_path / "run" / "clean" / "corpus.jsonl")]
    assert sorted(ids) == [f"d{i:03d}" for i in range(5)]
    assert out["clean"].summary["counts"]["dropped_repeated_record"] == 1


def test_empty_corpus_is_an_error(tmp_path):
    corpus = tmp_path / "empty.jsonl"
    corpus.write_text("\n")
    with pytest.raises(RecordError, match="empty.jsonl: the corpus is empty"):  # the one corpus reader's rule
        _clean(tmp_path, corpus)


def test_second_run_on_the_same_folder_is_refused(tmp_path):
    corpus = write_corpus(tmp_path / "corpus.jsonl", 5)
    with FolderLock(tmp_path / "run", "synthesis run"):  # another run holds the folder
        with pytest.raises(FolderLockedError, match="another process is writing this synthesis run"):
            _clean(tmp_path, corpus)
    assert not (tmp_path / "run" / "clean").exists()
    _clean(tmp_path, corpus)  # released: runs
