"""Throughput with one dead endpoint among three: does the client route around it?

Three base URLs: a closed port on 127.0.0.1 (connection refused) and two live servers (each its own
process, `synth_throughput.serve`, answering after a fixed `--delay`). Every runner gets the same n
requests at concurrency c. The reference is the ideal of the two live servers, c / delay requests
per second (the client can never beat it), and, measured in the same run, our client given only the
two live URLs. Side by side, in interleaved repeats:

* `ours, 3 URLs`: `OpenAIChatClient.map` over all three URLs (circuit breaker on, the default);
* `ours, 3 URLs, breaker off`: the same with `llm.breaker_failures=0`: least-busy routing, and a
  request refused by the dead URL moves to a live one without backoff, but the dead URL keeps
  being tried (on localhost a refused connection costs little; a dead remote host that drops
  packets costs a connect timeout each time, which the breaker avoids);
* `ours, 2 live URLs`: the client without the dead URL (what a user who spotted it would get);
* the named peer `openai.AsyncOpenAI` round-robin over the 3 URLs (one client per URL, SDK retries
  off, an `asyncio.Semaphore(c)`); requests sent to the dead URL fail, so its rate counts successes.

Printed: median successful requests/s per runner, its ratio to the ideal, and ours/ideal, the
figure the project targets (>= 0.8).

    python benchmarks/dead_endpoint.py --delay 0.3 --concurrency 32 --repeats 3
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synth_throughput import free_port, serve  # noqa: E402


def run_ours(urls: list[str], concurrency: int, n: int, breaker: bool = True) -> float:
    from reasonembed.llm import ChatRequest, LLMConfig, SamplingParams
    from reasonembed.llm.client import OpenAIChatClient

    cfg = LLMConfig(backend="openai", model="bench", base_urls=urls, max_concurrency=concurrency,
                    breaker_failures=3 if breaker else 0, max_consecutive_failures=0)
    client = OpenAIChatClient(cfg)
    reqs = (ChatRequest(i, [{"role": "user", "content": f"q{i}"}], SamplingParams(0.7, 0.95, None, 16)) for i in range(n))
    start = time.perf_counter()
    got = sum(1 for _, r in client.map(reqs) if r.ok)
    return got / (time.perf_counter() - start)


def run_openai_round_robin(urls: list[str], concurrency: int, n: int) -> float:
    import httpx
    import openai

    async def main() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        clients = [openai.AsyncOpenAI(base_url=u, api_key="x", max_retries=0, http_client=httpx.AsyncClient(limits=limits))
                   for u in urls]
        sem = asyncio.Semaphore(concurrency)
        ok = 0

        async def one(i: int) -> None:
            nonlocal ok
            async with sem:
                try:
                    await clients[i % len(clients)].chat.completions.create(
                        model="bench", messages=[{"role": "user", "content": f"q{i}"}], temperature=0.7, max_tokens=16)
                    ok += 1
                except openai.APIConnectionError:
                    pass

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - start
        for c in clients:
            await c.close()
        return ok / elapsed

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.3, help="Live servers' reply delay in seconds.")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--waves", type=int, default=10, help="Requests per run = concurrency * waves.")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    ports = [free_port(), free_port()]
    servers = [mp.Process(target=serve, args=(p, args.delay), daemon=True) for p in ports]
    for s in servers:
        s.start()
    live = [f"http://127.0.0.1:{p}/v1" for p in ports]
    dead = f"http://127.0.0.1:{free_port()}/v1"  # bound, then closed: connection refused
    three = [dead, *live]
    runners: dict[str, Callable[[int, int], float]] = {
        "ours, 3 URLs": lambda c, n: run_ours(three, c, n),
        "ours, 3 URLs, breaker off": lambda c, n: run_ours(three, c, n, breaker=False),
        "ours, 2 live URLs": lambda c, n: run_ours(live, c, n),
        "openai.AsyncOpenAI round-robin, 3 URLs": lambda c, n: run_openai_round_robin(three, c, n),
    }
    time.sleep(0.5)
    try:
        for fn in runners.values():
            fn(8, 16)  # warm up imports and the servers
        c, n = args.concurrency, args.concurrency * args.waves
        rates: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(args.repeats):
            for name, fn in runners.items():
                rates[name].append(fn(c, n))
        ideal = c / args.delay
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"delay {args.delay * 1000:.0f} ms, concurrency {c}, {n} requests, {args.repeats} interleaved repeats; "
              f"load average {load} on {os.cpu_count()} CPUs")
        print(f"ideal of the two live servers: {ideal:.1f} req/s")
        for name in runners:
            med = statistics.median(rates[name])
            print(f"{name:>40}: {med:7.1f} successful req/s  ({med / ideal:.3f} of ideal)  runs: "
                  + " ".join(f"{r:.1f}" for r in rates[name]))
        ours = statistics.median(rates["ours, 3 URLs"])
        peer = statistics.median(rates["openai.AsyncOpenAI round-robin, 3 URLs"])
        two = statistics.median(rates["ours, 2 live URLs"])
        print(f"ours/ideal {ours / ideal:.3f}   ours/ours-on-2-live {ours / two:.3f}   ours/peer {ours / peer:.2f}")
    finally:
        for s in servers:
            s.terminate()
            s.join()


if __name__ == "__main__":
    main()
