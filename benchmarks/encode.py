"""Encoding throughput and fidelity: reasonembed's Embedder vs `SentenceTransformer.encode`.

Same model (the bundled all-MiniLM-L6-v2), same passages, same batch size, same max length,
fp32 and bf16 (bf16 = CPU autocast for both: the Embedder's `dtype="bf16"`, and
`torch.autocast("cpu", torch.bfloat16)` around `SentenceTransformer.encode`). Runs are
interleaved (ours, peer, peer, ours, ...) after a two-batch warm-up each, so machine-load drift hits
both sides alike. Prints per-run throughput, the median throughput ratio ours/peer (goal >= 1.0)
and the max cosine difference 1 - cos(ours, peer) per dtype.

Passages: documents of the dev sets (theoremqa, entailmentbank) concatenated in file order
until each holds ~200 MiniLM tokens.

    python benchmarks/encode.py                       # 1,000 passages, batch 32, 3 repeats
    python benchmarks/encode.py --n 200 --repeats 2   # quicker
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from contextlib import nullcontext

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from reasonembed.data import bundled_dataset  # noqa: E402  (the dev sets ship with the package)


def make_passages(tokenizer, n: int, target_tokens: int) -> list[str]:
    """`n` passages of ~`target_tokens` tokens (special tokens included) cut from the dev-set texts."""
    from reasonembed.io import iter_jsonl

    sources = [
        bundled_dataset("theoremqa_q_dev") / "documents.jsonl",
        bundled_dataset("entailmentbank_facts_dev") / "documents.jsonl",
    ]
    words = [w for src in sources for _, rec in iter_jsonl(src) for w in rec["content"].split()]
    # WordPiece tokenizes whitespace-separated words independently, so token counts add up per word
    costs = [len(ids) for ids in tokenizer(words, add_special_tokens=False)["input_ids"]]
    passages, start, i = [], 0, 0
    budget = target_tokens - 2  # [CLS] and [SEP]
    while len(passages) < n:
        used, start = 0, i
        while used + costs[i % len(words)] <= budget:
            used += costs[i % len(words)]
            i += 1
        if i == start:  # a single word longer than the budget
            i += 1
        passages.append(" ".join(words[j % len(words)] for j in range(start, i)))
    return passages


def timed(fn) -> tuple[float, np.ndarray]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000, help="number of passages")
    parser.add_argument("--tokens", type=int, default=200, help="target tokens per passage")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per side and dtype")
    parser.add_argument("--dtypes", default="fp32,bf16")
    args = parser.parse_args()

    from sentence_transformers import SentenceTransformer

    from reasonembed.embedder import Embedder, default_model_path

    path = default_model_path()
    peer = SentenceTransformer(path, device="cpu")
    passages = make_passages(peer.tokenizer, args.n, args.tokens)
    lengths = [len(x) for x in peer.tokenizer(passages)["input_ids"]]
    print(
        f"model {path}\n{len(passages)} passages, tokens mean {np.mean(lengths):.0f} "
        f"(min {min(lengths)}, max {max(lengths)}), batch {args.batch_size}, max_seq_length "
        f"{peer.max_seq_length}, torch threads {torch.get_num_threads()}"
    )

    ref_fp32 = None
    for dtype in args.dtypes.split(","):
        ours = Embedder(path, dtype=dtype, batch_size=args.batch_size, device="cpu")
        assert ours.max_doc_length == peer.max_seq_length, (ours.max_doc_length, peer.max_seq_length)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if dtype == "bf16" else nullcontext()

        def run_ours(ours=ours) -> np.ndarray:
            return ours.encode_documents(passages, batch_size=args.batch_size)

        def run_peer(autocast=autocast) -> np.ndarray:
            with autocast:
                return peer.encode(
                    passages, batch_size=args.batch_size, normalize_embeddings=True, convert_to_numpy=True
                )

        warm = passages[: 2 * args.batch_size]
        ours.encode_documents(warm, batch_size=args.batch_size)  # warm-up (both sides)
        with autocast:
            peer.encode(warm, batch_size=args.batch_size)
        times: dict[str, list[float]] = {"ours": [], "peer": []}
        outs: dict[str, np.ndarray] = {}
        for rep in range(args.repeats):
            order = [("ours", run_ours), ("peer", run_peer)]
            for name, fn in order if rep % 2 == 0 else order[::-1]:
                seconds, outs[name] = timed(fn)
                times[name].append(seconds)
                print(f"  {dtype} run {rep + 1} {name:4s}: {len(passages) / seconds:7.1f} passages/s")
        a = outs["ours"] / np.linalg.norm(outs["ours"], axis=1, keepdims=True)
        b = outs["peer"].astype(np.float32) / np.linalg.norm(outs["peer"], axis=1, keepdims=True)
        cos_diff = float(np.max(1.0 - np.sum(a * b, axis=1)))
        ours_tp = len(passages) / statistics.median(times["ours"])
        peer_tp = len(passages) / statistics.median(times["peer"])
        line = (
            f"{dtype}: ours {ours_tp:.1f}/s, sentence-transformers {peer_tp:.1f}/s, "
            f"median throughput ratio {ours_tp / peer_tp:.3f}, max (1 - cos) ours vs peer {cos_diff:.2e}"
        )
        if dtype == "fp32":
            ref_fp32 = b
        elif ref_fp32 is not None:
            line += f", max (1 - cos) ours-{dtype} vs peer-fp32 {float(np.max(1 - np.sum(a * ref_fp32, axis=1))):.2e}"
        print(line)


if __name__ == "__main__":
    main()
