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

Fairness: a request is encoded in turns of at most max(`turn_size`, `max_batch`) texts (`turn_size`
defaults to `forward_batch`).
After each turn a request with texts left goes to the back of the line, so a 256-text request
delays a one-line query by one forward pass, not by the whole request; `turn_size=0` encodes every
request whole, first come first served. A job whose future was cancelled (its client timed out or
hung up, serve/admission.py) is skipped, or its remaining turns are.

`EncodeBatcher` exposes the Embedder calls the server and `IndexSearcher` use (`encode_queries`,
`encode_documents`, `fingerprint`, `dim`, ...), so it drops in where an Embedder is expected.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, InvalidStateError
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
    done: int = 0  # texts encoded so far
    vectors: list[np.ndarray] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str | None]:
        return self.kind, self.instruction

    @property
    def left(self) -> int:
        return len(self.texts) - self.done


class EncodeBatcher:
    """Thread-safe facade over one Embedder; all model work happens on one worker thread."""

    def __init__(self, embedder: Any, max_batch: int = 128, forward_batch: int = 8, turn_size: int | None = None) -> None:
        self.embedder = embedder
        self.max_batch = max_batch
        self.forward_batch = forward_batch
        self.turn_size = forward_batch if turn_size is None else turn_size
        if self.turn_size < 0:
            raise ValueError(f"turn_size must be >= 0 (0: whole requests), got {turn_size}")
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
        """A Future of `(vectors, token counts or None)`; cancel it to drop the work not yet done."""
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
        line: deque[_Job] = deque()  # admitted jobs, in turn order
        stopping = False
        while True:
            if not line and not stopping:
                first = self._queue.get()
                if first is None:
                    return
                line.append(first)
            while True:  # everything queued meanwhile joins the line
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stopping = True
                else:
                    line.append(job)
            for job in [j for j in line if j.future.done()]:  # cancelled by their request
                line.remove(job)
            if not line:
                if stopping:
                    return
                continue
            turn = self._take_turn(line)
            self._encode_turn(turn)
            for job in [j for j in line if j.future.done()]:
                line.remove(job)
            if line and line[0] is turn[0][0]:
                line.rotate(-1)  # its turn is over; the next request goes first

    def _take_turn(self, line: deque[_Job]) -> list[tuple[_Job, int, int]]:
        """(job, start, stop) slices for one encode call: a turn of the first job, plus whole jobs
        with the same kind and instruction while they fit in `max_batch` texts."""
        first = line[0]
        size = first.left if self.turn_size == 0 else min(first.left, max(self.turn_size, self.max_batch))
        turn = [(first, first.done, first.done + size)]
        for job in list(line)[1:]:
            if size >= self.max_batch:
                break
            if job.key == first.key and job.done == 0 and size + job.left <= self.max_batch:
                turn.append((job, 0, job.left))
                size += job.left
        return turn

    def _encode_turn(self, turn: list[tuple[_Job, int, int]]) -> None:
        kind, instruction = turn[0][0].key
        emb = self.embedder
        try:
            raw = [t for job, start, stop in turn for t in job.texts[start:stop]]
            if kind == "query":
                texts = [emb.format_query(t, instruction) for t in raw]
                max_length = emb.max_query_length
            else:
                texts, max_length = raw, emb.max_doc_length
            vectors = emb.encode(texts, max_length=max_length, batch_size=self.forward_batch)
            counts: list[int] | None = None
            if any(job.count_tokens for job, _, _ in turn):
                ids = emb.tokenizer(texts, truncation=True, max_length=max_length, padding=False)["input_ids"]
                counts = [len(x) for x in ids]
        except Exception as exc:  # handed to the waiting requests, which report it
            logger.exception("encoding failed")
            for job, _, _ in turn:
                _settle(job.future, exception=exc)
            return
        self.batches += 1
        self.texts += len(texts)
        row = 0
        for job, start, stop in turn:
            job.vectors.append(vectors[row : row + stop - start])
            if counts is not None and job.count_tokens:
                job.counts.extend(counts[row : row + stop - start])
            row += stop - start
            job.done = stop
            if job.left == 0:
                result = np.concatenate(job.vectors) if len(job.vectors) > 1 else job.vectors[0]
                _settle(job.future, result=(result, job.counts if job.count_tokens else None))


def _settle(future: Future, result: Any = None, exception: BaseException | None = None) -> None:
    """Set a result or exception unless the request cancelled it meanwhile."""
    try:
        if exception is not None:
            future.set_exception(exception)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass  # cancelled while it was being encoded: nobody is waiting
