"""Helpers for Redapter tests: a small published-format training file and tiny-model config overrides."""

from __future__ import annotations

import json
from pathlib import Path

TOPICS = ["algebra", "geometry", "biology", "chemistry", "physics", "history", "music", "poetry"]


def write_samples(path: Path, per_domain: int = 8, domains: tuple[str, ...] = ("math", "science"),
                  extra: dict | None = None) -> Path:
    rows = []
    for d in domains:
        for i in range(per_domain):
            t = TOPICS[i % len(TOPICS)]
            rows.append({
                "prompt": f"Given a {d} post, retrieve relevant passages.",
                "query": f"question {i} about {t} in {d}",
                "reasoning_query": f"question {i} about {t} in {d}. The answer needs {t}.",
                "pos": [f"a passage on {t} number {j}" for j in range(2)],
                "neg": [f"a passage on {TOPICS[(i + k) % len(TOPICS)]} unrelated {k}" for k in range(1, 5)],
                "pos_ids": [f"{t}-{j}" for j in range(2)],
                "neg_ids": [f"n{k}" for k in range(1, 5)],
                "domain": d,
                **(extra or {}).get(d, {}),
            })
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def tiny_overrides(model_path: str, train_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        f"model.model_name_or_path={model_path}",
        f"data.train_files=[{train_file}]",
        "data.group_size=3",
        "model.max_query_length=24",
        "model.max_passage_length=24",
        "train.per_device_train_batch_size=4",
        "train.learning_rate=1e-3",
        "train.warmup_steps=0",
        "train.disable_tqdm=true",
        "loss.temperature=0.05",
        f"train.output_dir={out}",
        "train.seed=7",
        *extra,
    ]
