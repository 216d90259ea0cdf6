"""Training-step throughput: our Redapter trainer vs sentence-transformers' MultipleNegativesRankingLoss.

Same model (bundled all-MiniLM-L6-v2, full fine-tune, fp32, dropout on), same texts (TheoremQA
questions: each query with 1 positive and group-1 hard negatives), same batch, same max length, same
optimizer (HF AdamW, lr 2e-5), same in-batch + hard-negative candidates and scale (1/0.02 = 50).
Both run through their HF-Trainer-based trainers; a callback times each optimizer step (forward,
backward, optimizer; data loading excluded for both). Runs are interleaved (ours-InfoNCE, ST-MNRL,
ours-RI-InfoNCE, repeat), the first step of every run is dropped as warm-up, medians are reported.

    python benchmarks/train_step.py --repeats 3 --steps 3

Goals: samples/s ours / ST >= 1.0; RI-InfoNCE step time / InfoNCE step time <= 1.35.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

from reasonembed.data import theoremqa_q_dev

DATA = theoremqa_q_dev()  # bundled with the package: runs from a fresh clone


class StepTimer(TrainerCallback):
    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def on_step_begin(self, args, state, control, **kwargs):  # noqa: ANN001
        self._t = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):  # noqa: ANN001
        self.times.append(time.perf_counter() - self._t)


def make_samples(n: int, group: int, seed: int) -> list[dict]:
    examples = [json.loads(x) for x in (DATA / "examples.jsonl").read_text().splitlines()]
    docs = {d["id"]: d["content"] for d in map(json.loads, (DATA / "documents.jsonl").read_text().splitlines())}
    rng = random.Random(seed)
    ids = sorted(docs)
    out = []
    for e in (examples * (n // len(examples) + 1))[:n]:
        negs = rng.sample([i for i in ids if i not in e["gold_ids"] and i != e["id"]], group - 1)
        out.append({"prompt": "", "query": e["query"], "reasoning_query": e["query"] + " " + e["theorem"],
                    "pos": [docs[e["gold_ids"][0]]], "neg": [docs[i] for i in negs], "domain": "theoremqa"})
    return out


def run_ours(train_file: Path, loss: str, args: argparse.Namespace, out: Path) -> list[float]:
    from reasonembed.redapter.config import load_train_config
    from reasonembed.redapter.trainer import build_trainer

    cfg = load_train_config(None, [
        f"data.train_files=[{train_file}]", f"data.group_size={args.group}", "data.use_data_sizes=false",
        f"loss.name={loss}", "loss.ri_warmup_steps=0", f"model.max_query_length={args.max_length}",
        f"model.max_passage_length={args.max_length}", "model.precision=fp32",
        f"train.per_device_train_batch_size={args.batch}", f"train.max_steps={args.steps + 1}",
        "train.learning_rate=2e-5", "train.warmup_steps=0", "train.save_strategy='no'", "train.disable_tqdm=true",
        "train.use_cpu=true", "train.dataloader_pin_memory=false", f"train.output_dir={out}", "train.logging_steps=1000",
    ])
    trainer = build_trainer(cfg)
    timer = StepTimer()
    trainer.add_callback(timer)
    trainer.train()
    return timer.times[1:]


def run_st(samples: list[dict], args: argparse.Namespace, out: Path) -> list[float]:
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss

    from reasonembed.embedder import default_model_path

    model = SentenceTransformer(default_model_path(), device="cpu")
    model.max_seq_length = args.max_length
    columns = {"anchor": [s["query"] for s in samples], "positive": [s["pos"][0] for s in samples]}
    for k in range(args.group - 1):
        columns[f"negative_{k + 1}"] = [s["neg"][k] for s in samples]
    st_args = SentenceTransformerTrainingArguments(
        output_dir=str(out), per_device_train_batch_size=args.batch, max_steps=args.steps + 1, learning_rate=2e-5,
        warmup_steps=0, save_strategy="no", disable_tqdm=True, use_cpu=True, dataloader_pin_memory=False,
        logging_steps=1000, report_to="none", seed=42,
    )
    timer = StepTimer()
    trainer = SentenceTransformerTrainer(model=model, args=st_args, train_dataset=Dataset.from_dict(columns),
                                         loss=MultipleNegativesRankingLoss(model, scale=50.0), callbacks=[timer])
    trainer.train()
    return timer.times[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per run (one more is run as warm-up)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=96)
    args = parser.parse_args()

    samples = make_samples(args.batch * (args.steps + 1), args.group, seed=0)
    times: dict[str, list[float]] = {"ours_infonce": [], "st_mnrl": [], "ours_ri_infonce": []}
    with tempfile.TemporaryDirectory() as tmp:
        train_file = Path(tmp) / "train.jsonl"
        train_file.write_text("".join(json.dumps(s) + "\n" for s in samples))
        for r in range(args.repeats):
            times["ours_infonce"] += run_ours(train_file, "infonce", args, Path(tmp) / f"a{r}")
            times["st_mnrl"] += run_st(samples, args, Path(tmp) / f"b{r}")
            times["ours_ri_infonce"] += run_ours(train_file, "ri_infonce", args, Path(tmp) / f"c{r}")
            print(f"repeat {r + 1}/{args.repeats}: " + ", ".join(f"{k} {statistics.median(v):.2f}s" for k, v in times.items()))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nbatch {args.batch} queries x group {args.group} (+{args.batch} q' for RI), max length {args.max_length}, "
          f"fp32, {args.repeats} interleaved repeats x {args.steps} steps")
    print("| trainer | median step s | samples/s |")
    print("|---|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.3f} | {args.batch / v:.2f} |")
    print(f"ours InfoNCE / ST MNRL samples/s ratio: {med['st_mnrl'] / med['ours_infonce']:.3f}  (goal >= 1.0)")
    print(f"RI-InfoNCE / InfoNCE step time: {med['ours_ri_infonce'] / med['ours_infonce']:.3f}  (goal <= 1.35)")


if __name__ == "__main__":
    main()
