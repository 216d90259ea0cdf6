"""Load test of `reasonembed serve` on loopback: 64 concurrent clients against /search and /v1/embeddings.

Two scenarios, each comparing two servers run side by side as subprocesses:

* `--scenario batching` (default): the server with dynamic micro-batching (`--max-batch 128`) vs
  the same server with it off (`--max-batch 1`: one request's texts per forward pass, the way a
  naive embedding server works); both without the queue bound and timeout, so that only batching
  differs and no request is refused.
* `--scenario big`: 64 clients on /search while one more client keeps a ~4 MB /v1/embeddings
  request (200 inputs of 20,000 characters) in flight. `bounded` is the server as shipped (a queue
  of at most `--max-queue` 32 requests, 503 + Retry-After beyond it, a 30 s request timeout, and
  requests encoded in turns so a big one does not hold small ones behind it); `unbounded` is the
  same server with all three off (`--max-queue 0 --request-timeout 0 --turn-size 0`). Clients
  honour `Retry-After`. Latency percentiles are over the requests answered 200; refused (503) and
  timed-out (504) requests are counted apart.

Each repeat runs every (endpoint, server) pair for `--duration` seconds, interleaved, and the
report prints per pair the median over repeats of requests/s, p50 and p99 latency and the error
count, the ratio between the two servers, and each server's RSS before and after.

    python benchmarks/serve_load.py                          # 64 clients, 60 s per phase, 1 repeat
    python benchmarks/serve_load.py --duration 20 --repeats 3 --out bench.json
    python benchmarks/serve_load.py --scenario big --duration 20 --repeats 3

Loopback only (127.0.0.1). Without --index it builds a flat index of the bundled TheoremQA dev
documents (387) with the bundled MiniLM and queries it with the dev queries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import psutil

DATA = Path(__file__).resolve().parents[1] / "src" / "reasonembed" / "data" / "theoremqa_q_dev"
UNBOUNDED = ["--max-queue", "0", "--request-timeout", "0"]  # the batching scenario measures batching alone
MODES = {
    "batched": ["--max-batch", "128", *UNBOUNDED],
    "unbatched": ["--max-batch", "1", *UNBOUNDED],
    "bounded": [],
    "unbounded": [*UNBOUNDED, "--turn-size", "0"],
}
SCENARIOS = {"batching": ("batched", "unbatched"), "big": ("bounded", "unbounded")}
BIG_INPUTS, BIG_CHARS = 200, 20_000  # ~4.0 MB of JSON: just under the default 4 MiB body limit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index: Path, flags: list[str], threads: int | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop("REASONEMBED_API_KEY", None)
    cmd = [sys.executable, "-m", "reasonembed.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
           "--port", str(port), *flags]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("server did not come up in 180 s")


def rss_mib(proc: subprocess.Popen) -> float:
    return psutil.Process(proc.pid).memory_info().rss / 2**20


def big_body(queries: list[str], model: str) -> dict:
    """200 inputs of 20,000 characters made of the dev queries' text (~4 MB of JSON)."""
    text = " ".join(queries)
    inputs = [((text[i * 997 :] + " " + text) * 3)[:BIG_CHARS] for i in range(BIG_INPUTS)]
    return {"model": model, "input": inputs}


async def run_phase(url: str, endpoint: str, queries: list[str], clients: int, duration: float, model: str,
                    big: dict | None = None) -> dict:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    big_done: list[float] = []
    big_statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=clients + 1, max_keepalive_connections=clients + 1)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=300) as client:
        deadline = time.perf_counter() + duration

        async def worker(seed: int) -> None:
            nonlocal errors
            i = seed
            while time.perf_counter() < deadline:
                q = queries[i % len(queries)]
                i += clients
                body = {"query": q, "k": 10} if endpoint == "/search" else {"model": model, "input": q}
                start = time.perf_counter()
                try:
                    r = await client.post(endpoint, json=body)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code != 200:
                        errors += 1
                        if "retry-after" in r.headers:  # a well-behaved client waits as told
                            await asyncio.sleep(min(float(r.headers["retry-after"]), max(deadline - time.perf_counter(), 0)))
                        continue
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)

        async def big_client() -> None:  # keeps one ~4 MB embeddings request in flight
            while big is not None and time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    r = await client.post("/v1/embeddings", json=big)
                    big_statuses[r.status_code] = big_statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        big_done.append(time.perf_counter() - start)
                    elif "retry-after" in r.headers:
                        await asyncio.sleep(float(r.headers["retry-after"]))
                except httpx.HTTPError:
                    big_statuses[0] = big_statuses.get(0, 0) + 1

        started = time.perf_counter()
        big_task = asyncio.create_task(big_client())
        if big is not None:
            await asyncio.sleep(1.0)  # the big request is admitted first: it is "in flight" for the whole phase
        await asyncio.gather(*(worker(s) for s in range(clients)))
        elapsed = time.perf_counter() - started
        await big_task  # let the last big request finish here, not in the next phase's time
    lat = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {
        "requests": len(latencies), "errors": errors, "seconds": elapsed, "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)), "statuses": statuses,
        "refused": statuses.get(503, 0), "timed_out": statuses.get(504, 0),
        "big_completed": len(big_done), "big_seconds": big_done, "big_statuses": big_statuses,
    }


def build_default_index(root: Path, threads: int | None = None) -> Path:
    import torch

    from reasonembed.embedder import Embedder
    from reasonembed.index import build_index

    if threads:  # Embedder.fingerprint sums weights in parallel, so it must match the servers' threads
        torch.set_num_threads(threads)
    out = root / "idx"
    build_index(DATA / "documents.jsonl", out, Embedder(), show_progress=False)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="Index to serve (default: build one from bundled data).")
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--duration", type=float, default=60.0, help="Seconds per (endpoint, server) phase.")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--endpoints", default="/search,/v1/embeddings")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="batching",
                        help="batching: batched vs unbatched; big: /search under a 4 MB embeddings request, bounded vs unbounded.")
    parser.add_argument("--modes", help="Servers to compare (default: the scenario's two): " + ", ".join(MODES))
    parser.add_argument("--server-threads", type=int, help="OMP/MKL threads per server (default: torch's choice).")
    parser.add_argument("--out", type=Path, help="Write all measurements as JSON.")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    queries = [json.loads(line)["query"] for line in (DATA / "examples.jsonl").open(encoding="utf-8")]
    big_scenario = args.scenario == "big"
    endpoints = ["/search"] if big_scenario else [e for e in args.endpoints.split(",") if e]
    modes = [m for m in args.modes.split(",") if m] if args.modes else list(SCENARIOS[args.scenario])
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or build_default_index(Path(tmp), args.server_threads)
        servers = {mode: start_server(index, MODES[mode], args.server_threads) for mode in modes}
        model = httpx.get(next(iter(servers.values()))[1] + "/healthz").json()["model"]
        rss_before = {mode: rss_mib(proc) for mode, (proc, _) in servers.items()}
        runs: list[dict] = []
        try:
            for repeat in range(args.repeats):
                for endpoint in endpoints:
                    for mode in modes if repeat % 2 == 0 else modes[::-1]:  # interleaved, order alternates
                        before = httpx.get(servers[mode][1] + "/healthz").json()
                        big = big_body(queries, model) if big_scenario else None
                        result = asyncio.run(run_phase(servers[mode][1], endpoint, queries, args.clients, args.duration, model, big))
                        after = httpx.get(servers[mode][1] + "/healthz").json()
                        batches = max(after["encode_batches"] - before["encode_batches"], 1)
                        result["mean_batch"] = (after["encoded_texts"] - before["encoded_texts"]) / batches
                        runs.append({"repeat": repeat, "endpoint": endpoint, "mode": mode, **result})
                        print(f"repeat {repeat} {endpoint:15s} {mode:9s} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms"
                              f"  p99 {result['p99_ms']:7.1f} ms  errors {result['errors']} (503: {result['refused']}, "
                              f"504: {result['timed_out']})  mean batch {result['mean_batch']:.1f}"
                              + (f"  big requests done {result['big_completed']} {result['big_statuses']}" if big else ""), flush=True)
            rss_after = {mode: rss_mib(proc) for mode, (proc, _) in servers.items()}
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(timeout=30)

    print(f"\n{args.clients} clients, {args.duration:g} s per phase, {args.repeats} repeat(s), model {model}, "
          f"{os.cpu_count()} CPUs; medians over repeats")
    print(f"{'endpoint':15s} {'server':9s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'errors':>7s} {'RSS before':>11s} {'RSS after':>10s}")
    summary: dict[str, dict[str, dict[str, float]]] = {}
    for endpoint in endpoints:
        for mode in modes:
            mine = [r for r in runs if r["endpoint"] == endpoint and r["mode"] == mode]
            keys = ("rps", "p50_ms", "p99_ms", "errors", "refused", "timed_out", "big_completed")
            med = {key: statistics.median(r[key] for r in mine) for key in keys}
            summary.setdefault(endpoint, {})[mode] = med
            print(f"{endpoint:15s} {mode:9s} {med['rps']:8.1f} {med['p50_ms']:8.1f} {med['p99_ms']:8.1f} {int(med['errors']):7d}"
                  f" {rss_before[mode]:8.0f} MiB {rss_after[mode]:7.0f} MiB"
                  + (f"   503 {med['refused']:g}, 504 {med['timed_out']:g}, 4 MB requests done {med['big_completed']:g}"
                     if big_scenario else ""))
        a, b = modes[0], modes[-1]
        if a != b:
            one, two = summary[endpoint][a], summary[endpoint][b]
            print(f"{endpoint:15s} {a}/{b}: throughput {one['rps'] / max(two['rps'], 1e-9):.2f}x, "
                  f"p50 {one['p50_ms'] / max(two['p50_ms'], 1e-9):.2f}x, p99 {one['p99_ms'] / max(two['p99_ms'], 1e-9):.2f}x")
    if args.out:
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                                        "summary": summary, "rss_before_mib": rss_before, "rss_after_mib": rss_after},
                                       indent=2))


if __name__ == "__main__":
    main()
