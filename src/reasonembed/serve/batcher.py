"""One thread owns the model; concurrent requests are encoded together (dynamic micro-batching).

Why: a HF fast tokenizer and a torch module must not be driven from several threads at once (the
tokenizer raises "Already borrowed"), and concurrent requests can share forward passes (a large
win on a GPU, where a pass over 32 texts costs about what a pass over one does). So request threads only enqueue `(texts, kind, instruction)` and wait;
a single worker thread takes everything queued (up to `max_batch` texts), encodes each
(kind, instruction) group in one `Embedder.encode` call, and hands every request its rows. No
artificial delay: requests that arrive while the worker is busy form the next batch.

`Embedder.encode` sorts a group by token length and runs forward passes of `forward_batch` texts.
Keep that small on CPU: every text in a pass is padded to the longest one, and on a mixed-length
load (TheoremQA queries: 10-183 tokens) passes of 32 wasted more compute on padding than batching
saved (0.65x the requests/s of one request at a time). With passes of 8, cross-request batching on
the 2-vCPU dev machine was 0.8x under heavy load and 0.97-1.12x when quieter, with ~100 MiB more
RSS (benchmarks/serve_load.py), so the server batches across requests only on a GPU by default
(`create_app(max_batch=None)`); the single model thread is kept either way.

`EncodeBatcher` exposes the Embedder calls the server and `IndexSearcher` use (`encode_queries`,
`encode_documents`, `fingerprint`, `dim`, ...), so it drops in where an Embedder is expected.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class _Job:
    texts: list[str]
    kind: str  # "query" | "document"
    instruction: str | None
    count_tokens: bool
    future: Future = field(default_factory=Future)


class EncodeBatcher:
    """Thread-safe facade over one Embedder; all model work happens on one worker thread."""

    def __init__(self, embedder: Any, max_batch: int = 128, forward_batch: int = 8) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self.forward_batch = forward_batch
        self.fingerprint: str = embedder.fingerprint  # hashed once: it walks every weight
        self.model_name_or_path = embedder.model_name_or_path
        self.dim: int = embedder.dim
        self.instruction = embedder.instruction
        self.batches = 0
        self.texts = 0
        self._queue: queue.Queue[_Job | None] = queue.Queue()
        self._worker = threading.Thread(target=self._run, name="reasonembed-encoder", daemon=True)
        self._worker.start()

    # ------------------------------------------------------------------ client side (any thread)
    def submit(
        self, texts: Sequence[str], kind: str = "document", instruction: str | None = None, count_tokens: bool = False
    ) -> Future:
        if kind not in ("query", "document"):
            raise ValueError(f"kind must be 'query' or 'document', got {kind!r}")
        if not self._worker.is_alive():
            raise RuntimeError("the encoder thread has stopped")
        job = _Job(list(texts), kind, instruction, count_tokens)
        self._queue.put(job)
        return job.future

    def encode(
        self, texts: Sequence[str], kind: str = "document", instruction: str | None = None, count_tokens: bool = False
    ) -> tuple[np.ndarray, list[int] | None]:
        """Vectors (and per-text token counts when asked) for `texts`; blocks until done."""
        return self.submit(texts, kind, instruction, count_tokens).result()

    def encode_queries(self, queries: Sequence[str], instruction: str | None = None, **_: Any) -> np.ndarray:
        return self.encode(queries, "query", instruction)[0]

    def encode_documents(self, docs: Sequence[str], **_: Any) -> np.ndarray:
        return self.encode(docs, "document")[0]

    def close(self) -> None:
        self._queue.put(None)
        self._worker.join(timeout=10)

    # ------------------------------------------------------------------ worker side
    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, size = [first], len(first.texts)
            while size < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)  # stop after this batch
                    break
                jobs.append(job)
                size += len(job.texts)
            self._process(jobs)

    def _process(self, jobs: list[_Job]) -> None:
        groups: dict[tuple[str, str | None], list[_Job]] = {}
        for job in jobs:
            groups.setdefault((job.kind, job.instruction), []).append(job)
        for (kind, instruction), members in groups.items():
            try:
                self._encode_group(kind, instruction, members)
            except Exception as exc:  # handed to the waiting request, which reports it
                logger.exception("encoding failed")
                for job in members:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _encode_group(self, kind: str, instruction: str | None, jobs: list[_Job]) -> None:
        emb = self.embedder
        if kind == "query":
            texts = [emb.format_query(t, instruction) for job in jobs for t in job.texts]
            max_length = emb.max_query_length
        else:
            texts = [t for job in jobs for t in job.texts]
            max_length = emb.max_doc_length
        vectors = emb.encode(texts, max_length=max_length, batch_size=self.forward_batch)
        counts: list[int] | None = None
        if any(job.count_tokens for job in jobs):
            ids = emb.tokenizer(texts, truncation=True, max_length=max_length, padding=False)["input_ids"]
            counts = [len(x) for x in ids]
        self.batches += 1
        self.texts += len(texts)
        start = 0
        for job in jobs:
            stop = start + len(job.texts)
            job.future.set_result((vectors[start:stop], counts[start:stop] if counts and job.count_tokens else None))
            start = stop
