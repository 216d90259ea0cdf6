"""A persistent, resumable cache of LLM answers for the search-time LLM tools (rewrite, rerank).

Why: LLM calls are the slow and paid part of query rewriting and reranking, and an evaluation is
re-run many times (another embedder, another fusion, a crash). Each answer is therefore stored
once, under a key that hashes everything that determines it — the model identity, the prompt
version, the sampling settings and the input text — so a changed model or prompt never reuses a
stale answer, and an unchanged one is never paid for twice.

Storage is one append-only JSONL file per tool (`<cache_dir>/<tool>/<tool>s.jsonl`) written with
`reasonembed.io.ResumableJsonlWriter`: every answer is flushed as it arrives, a line torn by a
SIGKILL is cut off on the next open, and a key is never written twice. While a tool uses the
cache the folder is held with `FolderLock`, so two processes never interleave their appends. A
second process (another evaluation on the same cache, or every torchrun rank of one) waits for the
holder, logging who it is, and then reads the holder's answers instead of paying for them again;
past `lock_timeout_s` (default: no limit) it gets the `FolderLockedError` naming the holder. Only
failures are never stored: they are asked again on the next run.

The model identity is `backend:model` (`LLM.backend`, `LLM.model`): the endpoint URL does not
change an answer, and the local backend's load path (GGUF file, then its cached HF copy) must not
invalidate the cache between runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reasonembed.errors import RecordError
from reasonembed.io import FolderLock, FolderLockedError, ResumableJsonlWriter, iter_jsonl
from reasonembed.llm import LLM, LLMConfig, build_llm

logger = logging.getLogger(__name__)
LOCK_POLL_S = 0.2


def model_identity(llm: LLM) -> str:
    """`backend:model`, the part of an LLM's identity that can change its answers."""
    return f"{llm.backend}:{llm.model}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(**parts: Any) -> str:
    """sha256 of the parts as canonical JSON (keys sorted), so equal inputs give equal keys."""
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return text_hash(blob)


def as_llm(llm: LLM | LLMConfig) -> LLM:
    """An LLM as given, or the backend an `LLMConfig` names."""
    return build_llm(llm) if isinstance(llm, LLMConfig) else llm


class LLMResultCache:
    """`key -> record` for one tool, backed by `<folder>/<name>.jsonl` (or memory only if folder is None).

    Use it as a context manager around a batch of work: entering locks the folder, repairs a torn
    tail and (re)reads the stored records, keeping only the fields in `keep`; `put` appends and
    flushes one record; leaving closes the file and releases the lock.
    """

    def __init__(self, folder: str | Path | None, name: str, keep: Sequence[str], lock_timeout_s: float | None = None):
        self.lock_timeout_s = lock_timeout_s
        self.folder = Path(folder) if folder is not None else None
        self.path = self.folder / f"{name}.jsonl" if self.folder is not None else None
        self.name = name
        self.keep = tuple(keep)
        self._values: dict[str, dict[str, Any]] = {}
        self._lock: FolderLock | None = None
        self._writer: ResumableJsonlWriter | None = None

    def __enter__(self) -> LLMResultCache:
        if self.folder is None or self.path is None:
            return self
        self._lock = self._acquire(self.folder)
        try:
            self._writer = ResumableJsonlWriter(self.path, key=lambda r: r.get("key"))
            self._values = {}
            for line, record in iter_jsonl(self.path):
                key = record.get("key")
                if not isinstance(key, str) or not key:
                    raise RecordError(self.path, line, "key", "missing or not a string")
                self._values[key] = {f: record.get(f) for f in self.keep}
        except BaseException:
            self.__exit__()
            raise
        return self

    def _acquire(self, folder: Path) -> FolderLock:
        """The folder lock, waiting (up to `lock_timeout_s`) while another process holds it."""
        deadline = None if self.lock_timeout_s is None else time.monotonic() + self.lock_timeout_s
        waiting = False
        while True:
            try:
                return FolderLock(folder, f"{self.name} cache").acquire()
            except FolderLockedError as exc:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                if not waiting:
                    logger.warning("%s; waiting for it (its answers will be reused)", exc)
                    waiting = True
            time.sleep(LOCK_POLL_S)

    def get(self, key: str) -> dict[str, Any] | None:
        return self._values.get(key)

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def put(self, record: dict[str, Any]) -> None:
        """Store one answer (`record["key"]` set); flushed before this returns."""
        key = record["key"]
        if key in self._values:
            return
        if self._writer is not None:
            self._writer.write(record)
        self._values[key] = {f: record.get(f) for f in self.keep}

    def __exit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
