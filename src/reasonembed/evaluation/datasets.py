"""Resolve a dataset spec to a loaded, validated `EvalDataset` through the benchmark registry.

    load_eval_dataset("bright", tasks=["biology"])              # hub, pinned revision
    load_eval_dataset("r2med")                                  # hub, eight repositories
    load_eval_dataset("path/to/folder")                         # BRIGHT / BEIR / R2MED layout
    load_eval_dataset("path/to/folder", benchmark="bright")     # a local copy of BRIGHT tasks

Without `benchmark`, the hub names and a snapshot of the BRIGHT repository are BRIGHT, a BEIR
folder is BEIR and any other folder is "local" (no reference instructions, no sub-averages),
whatever its name. `lenient=True` warns about qrels naming documents missing from the corpus
instead of failing. Loaders: `evaluation/hub.py` (hub), `evaluation/folders.py` (local folders);
validation: `evaluation/tasks.py` and `reasonembed.corpus`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reasonembed.evaluation.benchmarks import get_benchmark, infer_benchmark
from reasonembed.evaluation.tasks import EvalDataset


def load_eval_dataset(
    spec: str | Path,
    tasks: Sequence[str] | None = None,
    query_variant: str = "examples",
    long_documents: bool = False,
    revision: str | None = None,
    cache_dir: str | None = None,
    *,
    benchmark: str | None = None,
    lenient: bool = False,
) -> EvalDataset:
    """Load `spec` with the loader of `benchmark` (default: inferred from the spec, see above)."""
    text = str(spec)
    entry = get_benchmark(benchmark or infer_benchmark(text))
    is_hub_name = text.lower() in ("bright", "xlangai/bright", "r2med")
    if not is_hub_name and not Path(text).exists():
        raise FileNotFoundError(f"{text}: no such dataset folder (hub datasets: 'bright', 'r2med')")
    return entry.load(text, tasks, query_variant, long_documents, revision, cache_dir, lenient)
