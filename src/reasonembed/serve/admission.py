"""Bounded load for the one model thread: a request queue with a limit, a per-request timeout, and
no work for clients that have gone.

Every request that needs the model (`/v1/embeddings`, `/search`) goes through `Admission.encode`:

* at most `max_queue` such requests are admitted at once (waiting or being encoded); one more gets
  `503` with `Retry-After` at once, instead of waiting behind an ever longer queue — a closed loop of
  64 clients otherwise turns every request's latency into 64 requests' work;
* an admitted request waits at most `timeout` seconds for its vectors, then gets `504`; its job is
  cancelled, and the model thread skips a cancelled job (or the rest of one it has started);
* a request whose client has hung up is not submitted (`Request.is_disconnected`), and while it
  waits it also listens for the server's `http.disconnect` message; if that comes first its job is
  cancelled the same way, so a client that gave up costs no encoding.

Waiting is event-driven (the job's future, the disconnect message and the timeout, whichever comes
first), not polled, so 64 waiting requests cost the event loop (and the GIL the model thread also
needs) nothing while they wait. Handlers run on the event loop, so the counter needs no lock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from fastapi import Request

from reasonembed.serve.batcher import EncodeBatcher
from reasonembed.serve.guard import ApiError

CLIENT_GONE = 499  # nginx's "client closed request": logged, never read by anyone


class Admission:
    """Admission control in front of an `EncodeBatcher` (see the module docstring)."""

    def __init__(self, batcher: EncodeBatcher, max_queue: int | None = 32, timeout: float | None = 30.0) -> None:
        if max_queue is not None and max_queue < 1:
            raise ValueError(f"max_queue must be >= 1 (or None for no limit), got {max_queue}")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout must be > 0 seconds (or None for none), got {timeout}")
        self.batcher = batcher
        self.max_queue = max_queue
        self.timeout = timeout
        self.active = 0
        self.refused = 0
        self.timed_out = 0
        self.abandoned = 0

    def retry_after(self) -> int:
        """Seconds a refused client should wait: about one timeout's share of the queue, at least 1."""
        return max(1, math.ceil((self.timeout or 1.0) / 4))

    async def encode(self, request: Request, texts: Sequence[str], kind: str = "document",
                     instruction: str | None = None, count_tokens: bool = False) -> Any:
        """`EncodeBatcher.encode`'s result for this request, or an ApiError (503, 504, 499)."""
        if self.max_queue is not None and self.active >= self.max_queue:
            self.refused += 1
            raise ApiError(
                503, f"server busy: {self.active} requests are queued and this server admits at most "
                f"{self.max_queue} request{'s' if self.max_queue != 1 else ''} at a time; retry later",
                code="server_busy", headers={"Retry-After": str(self.retry_after())},
            )
        self.active += 1
        try:
            if await request.is_disconnected():
                self.abandoned += 1
                raise ApiError(CLIENT_GONE, "client closed the request")
            return await self._wait(request, self.batcher.submit(texts, kind, instruction, count_tokens))
        finally:
            self.active -= 1

    async def _wait(self, request: Request, future: Future) -> Any:
        waiting = asyncio.wrap_future(future)
        gone = asyncio.ensure_future(_disconnected(request))
        try:
            done, _ = await asyncio.wait({waiting, gone}, timeout=self.timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
        if waiting in done:
            return waiting.result()
        future.cancel()  # the model thread skips it (or the rest of it)
        if gone in done:
            self.abandoned += 1
            raise ApiError(CLIENT_GONE, "client closed the request")
        self.timed_out += 1
        raise ApiError(504, f"the request did not finish within this server's {self.timeout:g} s timeout; retry later",
                       code="timeout", headers={"Retry-After": str(self.retry_after())})


async def _disconnected(request: Request) -> None:
    """Return when the server reports that the client hung up (the body was read already)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
