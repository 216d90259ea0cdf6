"""Load test of `reasonembed serve` on loopback: 64 concurrent clients against /search and /v1/embeddings.

Peer: the same server with dynamic micro-batching switched off (`--max-batch 1`: one request's texts
per forward pass, the way a naive embedding server works). Both servers run side by side as
subprocesses; each repeat runs every (endpoint, server) pair for `--duration` seconds, interleaved,
and the report prints per pair the median over repeats of requests/s, p50 and p99 latency and the
error count, the batched/unbatched throughput ratio, and each server's RSS before and after.

    python benchmarks/serve_load.py                          # 64 clients, 60 s per phase, 1 repeat
    python benchmarks/serve_load.py --duration 20 --repeats 3 --out bench.json

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
MODES = {"batched": 128, "unbatched": 1}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index: Path, max_batch: int, threads: int | None = None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    env.pop("REASONEMBED_API_KEY", None)
    cmd = [sys.executable, "-m", "reasonembed.cli", "serve", "--index", str(index), "--host", "127.0.0.1",
           "--port", str(port), "--max-batch", str(max_batch)]
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


async def run_phase(url: str, endpoint: str, queries: list[str], clients: int, duration: float, model: str) -> dict:
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
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
                        continue
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - start)

        started = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in range(clients)))
        elapsed = time.perf_counter() - started
    lat = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {
        "requests": len(latencies), "errors": errors, "seconds": elapsed, "rps": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)), "statuses": statuses,
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
    parser.add_argument("--modes", default="batched,unbatched", help="batched (max_batch 128), unbatched (max_batch 1).")
    parser.add_argument("--server-threads", type=int, help="OMP/MKL threads per server (default: torch's choice).")
    parser.add_argument("--out", type=Path, help="Write all measurements as JSON.")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    queries = [json.loads(line)["query"] for line in (DATA / "examples.jsonl").open(encoding="utf-8")]
    endpoints = [e for e in args.endpoints.split(",") if e]
    modes = [m for m in args.modes.split(",") if m]
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
                        result = asyncio.run(run_phase(servers[mode][1], endpoint, queries, args.clients, args.duration, model))
                        after = httpx.get(servers[mode][1] + "/healthz").json()
                        batches = max(after["encode_batches"] - before["encode_batches"], 1)
                        result["mean_batch"] = (after["encoded_texts"] - before["encoded_texts"]) / batches
                        runs.append({"repeat": repeat, "endpoint": endpoint, "mode": mode, **result})
                        print(f"repeat {repeat} {endpoint:15s} {mode:9s} {result['rps']:8.1f} req/s  p50 {result['p50_ms']:7.1f} ms"
                              f"  p99 {result['p99_ms']:7.1f} ms  errors {result['errors']}  mean batch {result['mean_batch']:.1f}", flush=True)
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
            med = {key: statistics.median(r[key] for r in mine) for key in ("rps", "p50_ms", "p99_ms", "errors")}
            summary.setdefault(endpoint, {})[mode] = med
            print(f"{endpoint:15s} {mode:9s} {med['rps']:8.1f} {med['p50_ms']:8.1f} {med['p99_ms']:8.1f} {int(med['errors']):7d}"
                  f" {rss_before[mode]:8.0f} MiB {rss_after[mode]:7.0f} MiB")
        if {"batched", "unbatched"} <= set(modes):
            ratio = summary[endpoint]["batched"]["rps"] / max(summary[endpoint]["unbatched"]["rps"], 1e-9)
            print(f"{endpoint:15s} throughput ratio batched/unbatched: {ratio:.2f}x")
    if args.out:
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                                        "summary": summary, "rss_before_mib": rss_before, "rss_after_mib": rss_after},
                                       indent=2))


if __name__ == "__main__":
    main()
