"""Throughput of the synthesis LLM client against an OpenAI-compatible server with a fixed delay.

The server (its own process, one asyncio loop, HTTP/1.1 keep-alive) answers every chat completion
after `--delay` seconds with `await asyncio.sleep`, so it holds any number of requests at once and the
ideal rate at concurrency c is c / delay. For c in 1, 8, 64 we time, side by side:

* `reasonembed OpenAIChatClient.map` (the product: retries, accounting, endpoint routing, threads);
* the named peer, the official `openai.AsyncOpenAI` SDK (httpx inside, pool sized to c) driven by an
  `asyncio.Semaphore(c)`;
* a bare aiohttp loop with a semaphore, no retries or accounting: the ceiling this server and this
  machine allow, so that a low ratio can be told apart from a slow server or an overloaded CPU.

Repeats are interleaved (every runner once, then again), medians printed with their ratio to the
ideal. Goal: >= 0.9 of ideal at c = 64. The machine's load average is printed; on a shared machine
prefer a delay of 0.2-0.5 s so that CPU noise weighs less.

    python benchmarks/synth_throughput.py --delay 0.3 --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import socket
import statistics
import time
from collections.abc import Callable

REPLY = json.dumps({
    "id": "x", "object": "chat.completion", "model": "bench",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "<score>3</score>"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23},
}).encode()
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(REPLY), REPLY)
OURS = "reasonembed OpenAIChatClient"


def serve(port: int, delay: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                await asyncio.sleep(delay)
                writer.write(RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ours(url: str, concurrency: int, n: int) -> float:
    from reasonembed.llm import ChatRequest, LLMConfig, SamplingParams
    from reasonembed.llm.client import OpenAIChatClient

    client = OpenAIChatClient(LLMConfig(backend="openai", model="bench", base_urls=[url], max_concurrency=concurrency))
    reqs = (ChatRequest(i, [{"role": "user", "content": f"q{i}"}], SamplingParams(0.7, 0.95, None, 16)) for i in range(n))
    start = time.perf_counter()
    got = sum(1 for _, r in client.map(reqs) if r.ok)
    elapsed = time.perf_counter() - start
    assert got == n, f"only {got}/{n} succeeded: {client.accounting.snapshot()}"
    return n / elapsed


def run_openai_sdk(url: str, concurrency: int, n: int) -> float:
    import httpx
    import openai

    async def main() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        client = openai.AsyncOpenAI(base_url=url, api_key="x", max_retries=0, http_client=httpx.AsyncClient(limits=limits))
        sem = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with sem:
                await client.chat.completions.create(model="bench", messages=[{"role": "user", "content": f"q{i}"}],
                                                     temperature=0.7, top_p=0.95, max_tokens=16)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - start
        await client.close()
        return n / elapsed

    return asyncio.run(main())


def run_bare_aiohttp(url: str, concurrency: int, n: int) -> float:
    import aiohttp

    async def main() -> float:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            sem = asyncio.Semaphore(concurrency)

            async def one(i: int) -> None:
                body = json.dumps({"model": "bench", "messages": [{"role": "user", "content": f"q{i}"}], "max_tokens": 16})
                async with sem, session.post(f"{url}/chat/completions", data=body,
                                             headers={"Content-Type": "application/json"}) as response:
                    json.loads(await response.read())

            start = time.perf_counter()
            await asyncio.gather(*(one(i) for i in range(n)))
            return n / (time.perf_counter() - start)

    return asyncio.run(main())


RUNNERS: dict[str, Callable[[str, int, int], float]] = {
    OURS: run_ours,
    "openai.AsyncOpenAI + Semaphore": run_openai_sdk,
    "bare aiohttp (server ceiling)": run_bare_aiohttp,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.3, help="Server reply delay in seconds.")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--waves", type=int, default=12, help="Requests per run = concurrency * waves (at least 20).")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    port = free_port()
    server = mp.Process(target=serve, args=(port, args.delay), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port}/v1"
    time.sleep(0.5)
    try:
        for fn in RUNNERS.values():
            fn(url, 8, 16)  # warm up imports and the server
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"delay {args.delay * 1000:.0f} ms, {args.repeats} interleaved repeats, medians in req/s "
              f"(ratio to ideal); load average {load} on {os.cpu_count()} CPUs")
        print(f"{'concurrency':>11} {'ideal':>7} " + " ".join(f"{name:>31}" for name in RUNNERS) + "  ours/ideal  ours/peer")
        for c in args.concurrency:
            n = max(20, c * args.waves)
            rates: dict[str, list[float]] = {name: [] for name in RUNNERS}
            for _ in range(args.repeats):
                for name, fn in RUNNERS.items():
                    rates[name].append(fn(url, c, n))
            ideal = c / args.delay
            med = {name: statistics.median(v) for name, v in rates.items()}
            cells = " ".join(f"{med[name]:>22.1f} ({med[name] / ideal:4.2f})" for name in RUNNERS)
            peer = med["openai.AsyncOpenAI + Semaphore"]
            print(f"{c:>11} {ideal:>7.1f} {cells}  {med[OURS] / ideal:>10.3f}  {med[OURS] / peer:>9.2f}", flush=True)
    finally:
        server.terminate()
        server.join()


if __name__ == "__main__":
    main()
