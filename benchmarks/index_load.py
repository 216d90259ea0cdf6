"""What verifying an index on load costs: `load_index` (sizes, shapes, counts and sha256 of every
file checked) vs the same shards read without any check (`IndexStore` opened as a builder, ids and
vectors read, the same FAISS flat index filled) — the peer is the loader as it was before checks.

The index is synthetic (random unit vectors, short texts) so no model is needed; it is written with
the same `IndexStore.write_shard` and manifest the builder uses. Runs alternate (verified,
unverified, unverified, verified, ...) so load drift hits both; prints per-run seconds, the
medians, their ratio, and the hashing rate in MB/s of index files.

    python benchmarks/index_load.py                       # 100,000 x 384, 3 repeats
    python benchmarks/index_load.py --n 20000 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from reasonembed.index.searcher import load_index
from reasonembed.index.store import IndexStore


def write_synthetic(root: Path, n: int, dim: int, shard_size: int) -> int:
    """A complete flat index of `n` random unit vectors; returns the bytes of its shard files."""
    rng = np.random.default_rng(0)
    store = IndexStore(root=root)
    for start in range(0, n, shard_size):
        rows = min(shard_size, n - start)
        vectors = rng.standard_normal((rows, dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [f"doc-{i}" for i in range(start, start + rows)]
        store.write_shard(f"{start // shard_size:05d}", ids, [f"text of {i}" for i in ids], vectors)
    shards = store.complete_shards()
    store.write_manifest(status="complete", model="synthetic", fingerprint="synthetic", dim=dim, count=n,
                         shards=store.shard_entries(shards), ann={"kind": "flat"}, faiss=None)
    return sum(p.stat().st_size for p in (root / "shards").iterdir())


def load_unverified(root: Path) -> int:
    import faiss

    store = IndexStore.open(root, must_be_complete=False)
    shards = store.complete_shards()
    ids, _ = store.read_docs(shards)
    index = faiss.IndexFlatIP(int(store.manifest["dim"]))
    index.add(store.read_vectors(shards))
    return len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--shard-size", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "idx"
        size = write_synthetic(root, args.n, args.dim, args.shard_size)
        times: dict[str, list[float]] = {"verified": [], "unverified": []}
        for repeat in range(args.repeats):
            order = ["verified", "unverified"] if repeat % 2 == 0 else ["unverified", "verified"]
            for name in order:
                started = time.perf_counter()
                count = load_index(root).count if name == "verified" else load_unverified(root)
                times[name].append(time.perf_counter() - started)
                assert count == args.n
                print(f"repeat {repeat} {name:10s} {times[name][-1]:6.2f} s", flush=True)
    verified, unverified = (statistics.median(times[k]) for k in ("verified", "unverified"))
    print(f"\n{args.n} x {args.dim} float32 ({size / 1e6:.0f} MB of shard files), {args.repeats} repeats, medians:")
    print(f"load_index (verified) {verified:.2f} s; unverified read {unverified:.2f} s; ratio {verified / unverified:.2f}x; "
          f"verification adds {verified - unverified:.2f} s = {size / 1e6 / max(verified - unverified, 1e-9):.0f} MB/s")


if __name__ == "__main__":
    main()
