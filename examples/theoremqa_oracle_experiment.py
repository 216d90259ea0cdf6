"""InfoNCE vs RI-InfoNCE on TheoremQA questions, on a CPU, in about ten minutes.

What it shows: Redapter's machinery end to end on real reasoning-intensive data. Training samples in
the published ReasonEmbed format are built from `theoremqa_q_dev`'s own questions:

* split the *theorems* in two (seeded): training samples come from one half, evaluation from the other,
  so no relevance label of the held-out theorems is seen in training;
* query = a question; positives = the other questions that use the same theorem; hard negatives = the
  BM25-nearest questions of other (training) theorems;
* q' = the question plus one sentence naming its theorem. This is an *oracle* reasoning (the label
  itself), usable only for this experiment: it makes L' small exactly when naming the theorem helps.

The bundled all-MiniLM-L6-v2 is trained twice (InfoNCE, RI-InfoNCE; same seed, data order and steps)
and scored with nDCG@10 on the held-out theorems' queries over the full corpus, BRIGHT protocol
(`reasonembed.evaluation.runner.evaluate`), against the untrained model.

    python examples/theoremqa_oracle_experiment.py --out runs/theoremqa_oracle
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from pathlib import Path

from reasonembed.io import read_jsonl, write_json, write_jsonl

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "theoremqa_q_dev"


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def build_split(data: Path, out: Path, seed: int, negatives: int) -> dict[str, int]:
    """Write train.jsonl (published format) and heldout/ (BRIGHT layout); return their sizes."""
    from rank_bm25 import BM25Okapi

    examples, docs = read_jsonl(data / "examples.jsonl"), read_jsonl(data / "documents.jsonl")
    text = {d["id"]: d["content"] for d in docs}
    theorem_of: dict[str, str] = {}
    for e in examples:
        for doc_id in [e["id"], *e["gold_ids"]]:
            theorem_of[doc_id] = e["theorem"]
    theorems = sorted({e["theorem"] for e in examples})
    random.Random(seed).shuffle(theorems)
    train_theorems = set(theorems[: len(theorems) // 2])
    pool = sorted(d for d, t in theorem_of.items() if t in train_theorems)  # training questions only
    bm25 = BM25Okapi([tokens(text[d]) for d in pool])
    samples = []
    for e in examples:
        if e["theorem"] not in train_theorems:
            continue
        scores = bm25.get_scores(tokens(e["query"]))
        ranked = sorted(range(len(pool)), key=lambda i: -scores[i])
        neg_ids = [pool[i] for i in ranked if theorem_of[pool[i]] != e["theorem"]][:negatives]
        samples.append({
            "prompt": "",  # MiniLM is used without instruction, as in the dev set's baseline
            "query": e["query"],
            "reasoning_query": f"{e['query']} This problem is solved with the {e['theorem']}.",
            "pos": [text[g] for g in e["gold_ids"]],
            "neg": [text[n] for n in neg_ids],
            "pos_ids": list(e["gold_ids"]),
            "neg_ids": neg_ids,
            "domain": "theoremqa_questions",
        })
    write_jsonl(out / "train.jsonl", samples)
    heldout = [e for e in examples if e["theorem"] not in train_theorems]
    (out / "heldout").mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "heldout" / "examples.jsonl", heldout)
    write_jsonl(out / "heldout" / "documents.jsonl", docs)
    return {"train_theorems": len(train_theorems), "heldout_theorems": len(theorems) - len(train_theorems),
            "train_samples": len(samples), "heldout_queries": len(heldout), "corpus": len(docs)}


def ndcg10(model, heldout: Path) -> float:
    from reasonembed.evaluation.runner import evaluate

    return evaluate(model, str(heldout), instruction=None)["average"]["ndcg@10"]


def train(out: Path, loss: str, args: argparse.Namespace) -> dict:
    from reasonembed.redapter.config import load_train_config
    from reasonembed.redapter.trainer import build_trainer

    overrides = [
        f"data.train_files=[{out / 'train.jsonl'}]", f"loss.name={loss}", f"train.output_dir={out / loss}",
        f"train.max_steps={args.steps}", f"loss.ri_warmup_steps={args.warmup}", f"train.seed={args.seed}",
        f"train.per_device_train_batch_size={args.batch}", f"data.group_size={args.group}",
        f"train.learning_rate={args.lr}", "train.save_strategy='no'", "train.disable_tqdm=true",
        f"model.max_query_length={args.max_length}", f"model.max_passage_length={args.max_length}",
    ]
    recipe = Path(__file__).resolve().parents[1] / "src" / "reasonembed" / "recipes" / "minilm-cpu.yaml"
    trainer = build_trainer(load_train_config(recipe, overrides))
    start = time.time()
    trainer.train()
    seconds = time.time() - start
    trainer.model.eval()
    logs = [h for h in trainer.state.log_history if "infonce" in h]
    ri = {k: [h[k] for h in logs if k in h] for k in ("ri_min", "ri_median", "ri_mean", "ri_max")}
    return {
        "ndcg@10": ndcg10(trainer.model, out / "heldout"),
        "train_seconds": round(seconds, 1),
        "first_infonce": logs[0]["infonce"], "last_infonce": logs[-1]["infonce"],
        "ri_stats_mean_over_steps": {k: round(statistics.mean(v), 3) for k, v in ri.items() if v},
        "ri_steps": len(ri["ri_mean"]),
        "log": logs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("runs/theoremqa_oracle"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5, help="RI warm-up (optimizer steps)")
    parser.add_argument("--batch", type=int, default=12)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--group", type=int, default=4)
    parser.add_argument("--negatives", type=int, default=15)
    parser.add_argument("--lr", type=float, default=3e-5)
    args = parser.parse_args()

    from reasonembed.embedder import Embedder

    args.out.mkdir(parents=True, exist_ok=True)
    sizes = build_split(args.data, args.out, args.seed, args.negatives)
    print("split:", json.dumps(sizes))
    results = {"split": sizes, "args": {k: str(v) for k, v in vars(args).items()}}
    results["untrained"] = {"ndcg@10": ndcg10(Embedder(device="cpu"), args.out / "heldout")}
    for loss in ("infonce", "ri_infonce"):
        results[loss] = train(args.out, loss, args)
    write_json(args.out / "results.json", results)
    print(f"\nheld-out theorems ({sizes['heldout_queries']} queries, {sizes['corpus']} docs), nDCG@10:")
    print("| model | nDCG@10 | train s | InfoNCE first -> last |")
    print("|---|---|---|---|")
    print(f"| untrained MiniLM | {100 * results['untrained']['ndcg@10']:.2f} | - | - |")
    for loss in ("infonce", "ri_infonce"):
        r = results[loss]
        print(f"| {loss} | {100 * r['ndcg@10']:.2f} | {r['train_seconds']} | "
              f"{r['first_infonce']:.3f} -> {r['last_infonce']:.3f} |")
    print("RI statistics (RI-InfoNCE run, mean over", results["ri_infonce"]["ri_steps"], "steps):",
          results["ri_infonce"]["ri_stats_mean_over_steps"])


if __name__ == "__main__":
    main()
