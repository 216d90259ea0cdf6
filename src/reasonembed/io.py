"""Reading and writing the JSONL (and parquet) files that stages exchange.

Two guarantees every stage relies on:

* reading reports the file and line of any malformed record (`iter_jsonl`, `read_table`);
* writing is append-only and resumable (`ResumableJsonlWriter`): a run killed at any point keeps
  every complete line it wrote, a torn last line is cut off on reopen, and re-running skips the
  keys that are already present, so a resumed stage neither loses nor duplicates records.

Whole files are replaced atomically with `atomic_write` / `atomic_open` (temp file in the same
folder, fsync, rename, fsync of the folder): a reader sees the old file or the new one, never half
of one. `FolderLock` keeps two processes from writing the same run or index folder at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from reasonembed.errors import ReasonEmbedError, RecordError


class FolderLockedError(ReasonEmbedError):
    """Another process holds the lock of a run or index folder."""


def _decode_line(path: Path, lineno: int, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(
            path, lineno, None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte offset {exc.start})"
        ) from None


def _check_surrogates(path: Path, lineno: int, record: Any, field: str | None = None) -> None:
    """JSON may spell a lone UTF-16 surrogate (`"\\ud800"`); no UTF-8 text can hold one."""
    if isinstance(record, str):
        try:
            record.encode("utf-8")
        except UnicodeEncodeError:
            raise RecordError(path, lineno, field, "contains a lone UTF-16 surrogate (not valid Unicode text)") from None
    elif isinstance(record, dict):
        for key, value in record.items():
            _check_surrogates(path, lineno, value, f"{field}.{key}" if field else str(key))
    elif isinstance(record, list):
        for i, value in enumerate(record):
            _check_surrogates(path, lineno, value, f"{field}[{i}]" if field else f"[{i}]")


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, record)` for every non-blank line; malformed JSON raises RecordError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open("rb") as handle:
        for lineno, raw in enumerate(handle, start=1):
            line = _decode_line(path, lineno, raw)
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(
                    path, lineno, None, f"invalid JSON ({exc.msg} at column {exc.colno})"
                ) from None
            if not isinstance(record, dict):
                raise RecordError(path, lineno, None, f"expected a JSON object, got {type(record).__name__}")
            if "\\u" in line:  # only an escape can smuggle in a lone surrogate
                _check_surrogates(path, lineno, record)
            yield lineno, record


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    return [record for _, record in iter_jsonl(path)]


def iter_table(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Like `iter_jsonl`, but also reads `.parquet` (row numbers are 1-based)."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        if not path.exists():
            raise FileNotFoundError(f"{path}: no such file")
        table = pq.read_table(path)
        for row, record in enumerate(table.to_pylist(), start=1):
            yield row, record
    else:
        yield from iter_jsonl(path)


def read_table(path: str | Path) -> list[dict[str, Any]]:
    return [record for _, record in iter_table(path)]


def _fsync_dir(folder: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover - directories cannot be opened there
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temp file beside `path` for writing; on a clean exit it is fsynced and renamed over
    `path` (then the folder is fsynced). On an exception the temp file is removed and `path` is
    untouched. `mode` is "w" (UTF-8 text) or "wb"."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write(path: str | Path, data: str | bytes) -> None:
    """Replace `path` with `data` (text is written as UTF-8) atomically."""
    with atomic_open(path, "wb" if isinstance(data, bytes) else "w") as handle:
        handle.write(data)


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records atomically; returns how many were written."""
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_json(path: str | Path, obj: Any) -> None:
    """Write one JSON document atomically."""
    atomic_write(path, json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


class FolderLock:
    """An exclusive lock on a folder (`<folder>/.lock`, `fcntl.flock`), held while a run writes it.

    The kernel drops the lock when the holder exits, killed or not, so a crash never leaves a stale
    lock behind; the file only records who held it last (pid, host, command, time) for the message
    a second process gets::

        with FolderLock(run_dir, "synthesis run"):
            ...   # a second `with FolderLock(run_dir, ...)` elsewhere raises FolderLockedError
    """

    def __init__(self, folder: str | Path, what: str = "folder"):
        self.folder = Path(folder)
        self.what = what
        self.path = self.folder / ".lock"
        self._fd: int | None = None

    def acquire(self) -> FolderLock:
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip()
            os.close(fd)
            try:
                info = json.loads(holder)
                who = (f"pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}: "
                       f"{info.get('command')}")
            except (json.JSONDecodeError, AttributeError):
                who = "unknown process"
            raise FolderLockedError(
                f"{self.folder}: another process is writing this {self.what} ({who}); wait for it to "
                "finish or stop it, or use another folder"
            ) from None
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv)[:500],
                "since": time.strftime("%Y-%m-%dT%H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            import fcntl

            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class ResumableJsonlWriter:
    """Append-only JSONL writer that knows which keys are already written.

    Usage::

        with ResumableJsonlWriter(out, key=lambda r: r["id"]) as writer:
            for item in todo:
                if writer.done(item_key):
                    continue
                writer.write(make_record(item))

    On open, a torn final line (the process was killed mid-write) is truncated away; every complete
    line is kept and its key registered. Each `write` flushes, so a SIGKILL loses at most the record
    being written, which the next run redoes. Writing a key that is already present raises.
    """

    def __init__(self, path: str | Path, key: Callable[[dict[str, Any]], Any], fsync: bool = False):
        self.path = Path(path)
        self.key = key
        self.fsync = fsync
        self.keys: set[Any] = set()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_and_scan()
        self._handle = self.path.open("a", encoding="utf-8")

    def _repair_and_scan(self) -> None:
        if not self.path.exists():
            return
        good_bytes = 0
        with self.path.open("rb") as handle:
            for lineno, raw in enumerate(handle, start=1):
                if not raw.endswith(b"\n"):
                    break  # torn tail from a killed writer
                _decode_line(self.path, lineno, raw)
                if raw.strip():
                    try:
                        record = json.loads(raw)
                    except json.JSONDecodeError:
                        raise RecordError(
                            self.path, lineno, None, "corrupt line in the middle of an output file"
                        ) from None
                    self.keys.add(self.key(record))
                good_bytes += len(raw)
        if good_bytes != self.path.stat().st_size:
            with self.path.open("r+b") as handle:
                handle.truncate(good_bytes)

    def done(self, key: Any) -> bool:
        return key in self.keys

    def __len__(self) -> int:
        return len(self.keys)

    def write(self, record: dict[str, Any]) -> None:
        key = self.key(record)
        if key in self.keys:
            raise ValueError(f"{self.path}: key {key!r} is already written")
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        if self.fsync:
            os.fsync(self._handle.fileno())
        self.keys.add(key)

    def close(self) -> None:
        if not self._handle.closed:
            self._handle.flush()
            self._handle.close()

    def __enter__(self) -> ResumableJsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
