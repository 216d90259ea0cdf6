"""The file layer every stage relies on: line-exact errors, atomic replacement, resumable appends, locks."""

from __future__ import annotations

import json
import multiprocessing
import os

import pytest

from reasonembed.errors import RecordError
from reasonembed.io import (
    FolderLock,
    FolderLockedError,
    ResumableJsonlWriter,
    atomic_write,
    iter_jsonl,
    read_jsonl,
    write_jsonl,
)


def test_non_utf8_line_names_file_and_line(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(RecordError, match=r"docs.jsonl, line 2: not valid UTF-8 \(byte 0xe9"):
        read_jsonl(path)


def test_lone_surrogate_names_line_and_field(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "fine \\u00e9"}\n{"id": "b", "text": "x \\ud800"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"line 2, field 'text': contains a lone UTF-16 surrogate"):
        read_jsonl(path)


def test_valid_surrogate_pair_is_text(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text('{"id": "a", "text": "\\ud83d\\ude00"}\n', encoding="utf-8")
    assert read_jsonl(path) == [{"id": "a", "text": "\U0001f600"}]


def test_invalid_json_and_non_object(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"id": 1}\n\n{oops\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"x.jsonl, line 3: invalid JSON"):
        list(iter_jsonl(path))
    path.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(RecordError, match="expected a JSON object, got list"):
        list(iter_jsonl(path))


def test_atomic_write_leaves_old_file_on_failure(tmp_path):
    path = tmp_path / "out.jsonl"
    write_jsonl(path, [{"a": 1}])

    def broken():
        yield {"a": 2}
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, broken())
    assert read_jsonl(path) == [{"a": 1}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl"]  # no temp file left behind
    atomic_write(path, b"")
    assert path.read_bytes() == b""


def test_resumable_writer_cuts_torn_tail_and_skips_done(tmp_path):
    path = tmp_path / "stage.jsonl"
    with ResumableJsonlWriter(path, key=lambda r: r["id"]) as writer:
        writer.write({"id": "a"})
        writer.write({"id": "b"})
    with path.open("ab") as handle:
        handle.write(b'{"id": "c", "te')  # the process died here
    with ResumableJsonlWriter(path, key=lambda r: r["id"]) as writer:
        assert writer.done("a") and writer.done("b") and not writer.done("c")
        writer.write({"id": "c"})
        with pytest.raises(ValueError, match="already written"):
            writer.write({"id": "a"})
    assert [r["id"] for r in read_jsonl(path)] == ["a", "b", "c"]


def test_resumable_writer_refuses_corrupt_middle_line(tmp_path):
    path = tmp_path / "stage.jsonl"
    path.write_text('{"id": "a"}\n{broken}\n{"id": "c"}\n', encoding="utf-8")
    with pytest.raises(RecordError, match=r"stage.jsonl, line 2: corrupt line in the middle"):
        ResumableJsonlWriter(path, key=lambda r: r["id"])
    assert path.read_text(encoding="utf-8").count("\n") == 3  # nothing truncated


def _hold_lock(folder, ready, release):
    with FolderLock(folder, "index"):
        ready.set()
        release.wait(30)


def test_folder_lock_refuses_a_second_process_and_frees_on_exit(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    try:
        assert ready.wait(60)
        with pytest.raises(FolderLockedError, match=rf"another process is writing this index \(pid {proc.pid}"):
            FolderLock(tmp_path, "index").acquire()
    finally:
        release.set()
        proc.join(30)
    with FolderLock(tmp_path, "index"):  # released when the holder exited
        info = json.loads((tmp_path / ".lock").read_text())
        assert info["pid"] == os.getpid()


def test_folder_lock_is_freed_when_the_holder_is_killed(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    proc.start()
    assert ready.wait(60)
    proc.kill()
    proc.join(30)
    with FolderLock(tmp_path, "index"):
        pass
