"""Reading and writing the JSONL (and parquet) files that stages exchange.

Two guarantees every stage relies on:

* reading reports the file and line of any malformed record (`iter_jsonl`, `read_table`);
* writing is append-only and resumable (`ResumableJsonlWriter`): a run killed at any point keeps
  every complete line it wrote, a torn last line is cut off on reopen, and re-running skips the
  keys that are already present, so a resumed stage neither loses nor duplicates records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from reasonembed.errors import RecordError


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, record)` for every non-blank line; malformed JSON raises RecordError."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open("r", encoding="utf-8") as handle:
        for lineno, line in enumerate(handle, start=1):
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


def write_jsonl(path: str | Path, records: Iterable[dict[str, Any]]) -> int:
    """Write records atomically (temp file + rename); returns how many were written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return count


def write_json(path: str | Path, obj: Any) -> None:
    """Write one JSON document atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


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
