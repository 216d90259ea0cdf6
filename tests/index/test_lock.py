"""Two concurrent `reasonembed index` runs into one folder: the second is refused, naming the first."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from reasonembed.index import load_index


def test_second_concurrent_build_is_refused(tmp_path, write_corpus, theoremqa_docs, embedder) -> None:
    corpus = write_corpus(tmp_path / "docs.jsonl", theoremqa_docs[:20])
    out = tmp_path / "idx"
    cmd = [sys.executable, "-m", "reasonembed.cli", "index", "--corpus", str(corpus), "--out", str(out), "--shard-size", "4"]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not (out / ".lock").exists() or str(first.pid) not in (out / ".lock").read_text():
            assert first.poll() is None and time.monotonic() < deadline, "first build ended before the test could race it"
            time.sleep(0.05)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "first build finished before the second ran: the race was not tested"
        assert second.returncode == 2, second.stderr
        assert second.stderr.startswith("error: ") and "Traceback" not in second.stderr
        assert "another process is writing this index" in second.stderr and f"pid {first.pid}" in second.stderr
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    # the kernel dropped the dead holder's lock: the Python API resumes and stores every document once
    from reasonembed.index import build_index

    build_index(corpus, out, embedder, shard_size=4, show_progress=False)
    ids = load_index(out).ids
    assert ids == [d["id"] for d in theoremqa_docs[:20]]
    assert json.loads((out / ".lock").read_text())["pid"] == os.getpid()
