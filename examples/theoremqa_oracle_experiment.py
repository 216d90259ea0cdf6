"""InfoNCE vs RI-InfoNCE on TheoremQA questions, on a CPU, in about ten minutes.

What it shows: Redapter's machinery end to end on real reasoning-intensive data. Training samples in
the published ReasonEmbed format are built from `theoremqa_q_dev`'s own questions (the copy bundled in
`reasonembed.data`, or `--data DIR`):

* split by theorem exactly as the quickstart does (`reasonembed.evaluation.split.split_by_theorem`,
  seeded): training samples come from the train part, evaluation from the eval part, so no theorem,
  question or relevance label of the eval part is seen in training;
* query = a question; positives = the other questions that use the same theorem; hard negatives = the
  BM25-nearest non-gold documents of the train part (the quickstart's gold-pair samples,
  `reasonembed.redapter.gold.gold_samples`);
* q' = the question plus one sentence naming its theorem. This is an *oracle* reasoning (the label
  itself), usable only for this experiment: it makes L' small exactly when naming the theorem helps.

The bundled all-MiniLM-L6-v2 is trained twice from the `minilm-cpu` recipe (InfoNCE, RI-InfoNCE; same
seed, data order and steps) and scored with nDCG@10 on the eval part's queries over the eval part's
corpus, BRIGHT protocol (`reasonembed.evaluation.runner.evaluate`), against the untrained model.

    python examples/theoremqa_oracle_experiment.py --out runs/theoremqa_oracle
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path

import reasonembed
from reasonembed.config import load_config
from reasonembed.data import theoremqa_q_dev
from reasonembed.evaluation.split import document_labels, split_by_theorem
from reasonembed.io import read_jsonl, write_json, write_jsonl
from reasonembed.redapter.config import RedapterConfig, check_train_config
from reasonembed.redapter.gold import gold_samples

RECIPE = Path(reasonembed.__file__).resolve().parent / "recipes" / "minilm-cpu.yaml"


def build_split(data: Path, out: Path, seed: int, negatives: int) -> dict[str, int]:
    """Write out/{train,eval} (BRIGHT layout, split by theorem) and out/train.jsonl; return their sizes."""
    split = split_by_theorem(data, out, eval_fraction=0.5, seed=seed)
    examples = out / "train" / "examples.jsonl"
    theorem_of = document_labels(read_jsonl(examples), examples)
    # MiniLM is used without instruction, as in the dev set's baseline
    samples = gold_samples(out / "train", instruction="", negatives=negatives)
    for sample in samples:  # a positive is a question of the same theorem: it names the query's theorem
        sample["reasoning_query"] = f"{sample['query']} This problem is solved with the {theorem_of[sample['pos_ids'][0]]}."
    write_jsonl(out / "train.jsonl", samples)
    return {"train_theorems": len(split.theorems["train"]), "heldout_theorems": len(split.theorems["eval"]),
            "train_samples": len(samples), "heldout_queries": split.queries["eval"],
            "corpus": split.documents["eval"]}


def ndcg10(model, heldout: Path) -> float:
    from reasonembed.evaluation.runner import evaluate

    return evaluate(model, str(heldout), instruction=None)["average"]["ndcg@10"]


def train(out: Path, loss: str, args: argparse.Namespace) -> dict:
    from reasonembed.redapter.trainer import build_trainer

    recipe = load_config(RedapterConfig, RECIPE)
    cfg = check_train_config(replace(
        recipe,
        model=replace(recipe.model, max_query_length=args.max_length, max_passage_length=args.max_length),
        data=replace(recipe.data, train_files=[str(out / "train.jsonl")], group_size=args.group),
        loss=replace(recipe.loss, name=loss, ri_warmup_steps=args.warmup),
        train=replace(recipe.train, output_dir=str(out / loss), max_steps=args.steps, seed=args.seed,
                      per_device_train_batch_size=args.batch, learning_rate=args.lr, save_strategy="no",
                      disable_tqdm=True),
    ))
    trainer = build_trainer(cfg)
    start = time.time()
    trainer.train()
    seconds = time.time() - start
    trainer.model.eval()
    logs = [h for h in trainer.state.log_history if "infonce" in h]
    ri = {k: [h[k] for h in logs if k in h] for k in ("ri_min", "ri_median", "ri_mean", "ri_max")}
    return {
        "ndcg@10": ndcg10(trainer.model, out / "eval"),
        "train_seconds": round(seconds, 1),
        "first_infonce": logs[0]["infonce"], "last_infonce": logs[-1]["infonce"],
        "ri_stats_mean_over_steps": {k: round(statistics.mean(v), 3) for k, v in ri.items() if v},
        "ri_steps": len(ri["ri_mean"]),
        "log": logs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="BRIGHT-layout folder with a `theorem` per query "
                        "(default: the bundled theoremqa_q_dev)")
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
    sizes = build_split(args.data or theoremqa_q_dev(), args.out, args.seed, args.negatives)
    print("split:", json.dumps(sizes))
    results = {"split": sizes, "args": {k: str(v) for k, v in vars(args).items()}}
    results["untrained"] = {"ndcg@10": ndcg10(Embedder(device="cpu"), args.out / "eval")}
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
