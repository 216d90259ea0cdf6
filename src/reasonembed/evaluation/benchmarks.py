"""The benchmark registry: one entry per benchmark with everything that makes it that benchmark.

Why a registry (STYLE.md 14, Tevatron's lesson): a benchmark is data - its loader, tasks, groups,
per-task instructions, exclusion rule and aggregation - and the metric core never changes when
one is added. The BRIGHT instructions exist here once; ReMixer's domain prompts read them too.

| entry | loader | exclusion rule | aggregation |
|---|---|---|---|
| `bright` | hub `xlangai/BRIGHT` at `BRIGHT_REVISION`, a snapshot of it, or a BRIGHT-layout folder | each query's `excluded_ids` ("N/A" ignored) | macro mean + StackExchange / Coding / Theorem-based |
| `r2med` | hub `R2MED/<task>`, or a folder in R2MED's layout (corpus/query/qrels) | `excluded_ids` (none in R2MED) | macro mean |
| `beir` | a BEIR folder (`corpus.jsonl`, `queries.jsonl`, `qrels/test.tsv`) | a hit whose docid equals the query id is dropped (BEIR's evaluator does this) | macro mean |
| `local` | any local folder | `excluded_ids` | macro mean |

A local folder is BRIGHT (instructions, sub-averages) only when the user says so
(`--benchmark bright`), never because of its name.

Instructions are worded exactly as the reference harnesses word them: `BRIGHT_INSTRUCTIONS` from
FlagEmbedding `evaluation/bright/prompts.py` (`BrightShortInstructions`; equal to the `prompt`
field of the published ReasonEmbed training data), `BRIGHT_LONG_INSTRUCTIONS` its
`BrightLongInstructions` (pony's long wording has no final full stop in the reference, kept as
is), and the eight R2MED prompts (METHOD.md §5.3).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reasonembed.errors import ConfigError
from reasonembed.evaluation.folders import folder_layout, load_folder
from reasonembed.evaluation.hub import load_bright_repo, load_r2med_repos
from reasonembed.evaluation.metrics import group_averages, macro_average
from reasonembed.evaluation.tasks import EvalDataset, EvalTask

BRIGHT_HUB_ID = "xlangai/BRIGHT"
# The revision MTEB pins for BRIGHT v1 (12 tasks, theoremqa split into questions/theorems).
BRIGHT_REVISION = "a75a0eb483f6a5233a6efc2d63d71540a4443dfb"
BRIGHT_TASK_GROUPS: dict[str, list[str]] = {
    "StackExchange": [
        "biology",
        "earth_science",
        "economics",
        "psychology",
        "robotics",
        "stackoverflow",
        "sustainable_living",
    ],
    "Coding": ["leetcode", "pony"],
    "Theorem-based": ["aops", "theoremqa_questions", "theoremqa_theorems"],
}
BRIGHT_TASKS: list[str] = [t for group in BRIGHT_TASK_GROUPS.values() for t in group]
BRIGHT_LONG_TASKS: list[str] = BRIGHT_TASK_GROUPS["StackExchange"] + ["pony"]
BRIGHT_QUERY_VARIANTS = [
    "examples",
    "gpt4_reason",
    "claude-3-opus_reason",
    "Gemini-1.0_reason",
    "llama3-70b_reason",
    "grit_reason",
]

_SE = "post, retrieve relevant passages that help answer the post."
_SE_LONG = "post, retrieve relevant documents that help answer the post."
_MATH = "Given a Math problem, retrieve relevant {} that help answer the problem."
BRIGHT_INSTRUCTIONS: dict[str, str] = {
    "biology": f"Given a Biology {_SE}",
    "earth_science": f"Given an Earth Science {_SE}",
    "economics": f"Given an Economics {_SE}",
    "psychology": f"Given a Psychology {_SE}",
    "robotics": f"Given a Robotics {_SE}",
    "stackoverflow": f"Given a Stack Overflow {_SE}",
    "sustainable_living": f"Given a Sustainable Living {_SE}",
    "leetcode": "Given a Coding problem, retrieve relevant examples that help answer the problem.",
    "pony": "Given a Pony question, retrieve relevant passages that help answer the question.",
    "aops": _MATH.format("examples"),
    "theoremqa_questions": _MATH.format("examples"),
    "theoremqa_theorems": _MATH.format("theorems"),
}
BRIGHT_LONG_INSTRUCTIONS: dict[str, str] = {
    "biology": f"Given a Biology {_SE_LONG}",
    "earth_science": f"Given an Earth Science {_SE_LONG}",
    "economics": f"Given an Economics {_SE_LONG}",
    "psychology": f"Given a Psychology {_SE_LONG}",
    "robotics": f"Given a Robotics {_SE_LONG}",
    "stackoverflow": f"Given a Stack Overflow {_SE_LONG}",
    "sustainable_living": f"Given a Sustainable Living {_SE_LONG}",
    "pony": "Given a Pony question, retrieve relevant documents that help answer the question",
}

R2MED_HUB_ORG = "R2MED"
_CASE = "Given a Clinical Case, retrieve {} that help {} the case."
R2MED_INSTRUCTIONS: dict[str, str] = {
    "Biology": "Given a Biology post, retrieve relevant passages that help answer the post.",
    "Bioinformatics": "Given a Bioinformatics post, retrieve relevant passages that help answer the post.",
    "Medical-Sciences": "Given a Medical Science post, retrieve relevant passages that help answer the post.",
    "MedXpertQA-Exam": "Given a Medical Exam, retrieve relevant passages that help answer the exam.",
    "MedQA-Diag": "Given a Medical Exam, retrieve relevant passages that help answer the exam.",
    "PMC-Treatment": _CASE.format("relevant passages", "answer"),
    "PMC-Clinical": _CASE.format("similar cases", "diagnose"),
    "IIYi-Clinical": _CASE.format("similar cases", "diagnose"),
}
R2MED_TASKS: list[str] = list(R2MED_INSTRUCTIONS)

Loader = Callable[..., EvalDataset]  # (spec, tasks, query_variant, long_documents, revision, cache_dir, lenient)


@dataclass(frozen=True)
class Benchmark:
    """One registry entry (see the module docstring)."""

    name: str
    load: Loader
    tasks: Sequence[str] = ()
    groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    instructions: Mapping[str, str] = field(default_factory=dict)
    long_instructions: Mapping[str, str] = field(default_factory=dict)
    self_exclude: bool = False  # drop a hit whose docid equals the query id (BEIR)

    def instruction(self, task: str, long_documents: bool = False) -> str | None:
        """The reference instruction of `task`, or None for a task the benchmark does not define."""
        return (self.long_instructions if long_documents else self.instructions).get(task)

    def excluded(self, task: EvalTask, self_exclude: bool | None = None) -> dict[str, list[str]]:
        """Per-query ids never to return: the task's `excluded_ids`, plus the query id itself
        under the self-exclusion rule (`self_exclude` overrides the entry's default)."""
        own = self.self_exclude if self_exclude is None else self_exclude
        return {q: list(task.excluded.get(q, [])) + ([q] if own else []) for q in task.query_ids}

    def aggregate(
        self, task_metrics: Mapping[str, Mapping[str, float]]
    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """(macro average over tasks, sub-averages of the groups whose tasks are all present)."""
        return macro_average(task_metrics), group_averages(task_metrics, self.groups)


def _relabel(dataset: EvalDataset, name: str) -> EvalDataset:
    dataset.benchmark = name
    return dataset


def _load_bright(
    spec: str | Path, tasks: Sequence[str] | None, query_variant: str, long_documents: bool,
    revision: str | None, cache_dir: str | None, lenient: bool,
) -> EvalDataset:
    text = str(spec)
    is_hub = text.lower() in ("bright", BRIGHT_HUB_ID.lower())
    path = Path(text)
    if not is_hub and not (path.is_dir() and folder_layout(path) == "bright-hub"):
        return _relabel(load_folder(path, tasks, query_variant, long_documents, lenient), "bright")
    if query_variant not in BRIGHT_QUERY_VARIANTS:
        raise ConfigError(f"unknown BRIGHT query variant {query_variant!r}; valid: {BRIGHT_QUERY_VARIANTS}")
    valid = BRIGHT_LONG_TASKS if long_documents else BRIGHT_TASKS
    names = list(tasks or valid)
    bad = [t for t in names if t not in valid]
    if bad:
        raise ConfigError(f"unknown BRIGHT task(s) {bad}; valid: {valid}")
    source = BRIGHT_HUB_ID if is_hub else text
    return load_bright_repo(
        source, names, query_variant, long_documents, revision or BRIGHT_REVISION, cache_dir, lenient
    )


def _load_r2med(
    spec: str | Path, tasks: Sequence[str] | None, query_variant: str, long_documents: bool,
    revision: str | None, cache_dir: str | None, lenient: bool,
) -> EvalDataset:
    if str(spec).lower() != R2MED_HUB_ORG.lower():
        return _relabel(load_folder(spec, tasks, query_variant, long_documents, lenient), "r2med")
    names = list(tasks or R2MED_TASKS)
    bad = [t for t in names if t not in R2MED_TASKS]
    if bad:
        raise ConfigError(f"unknown R2MED task(s) {bad}; valid: {R2MED_TASKS}")
    return load_r2med_repos(R2MED_HUB_ORG, names, revision, cache_dir, lenient)


def _folder_loader(name: str) -> Loader:
    def load(
        spec: str | Path, tasks: Sequence[str] | None, query_variant: str, long_documents: bool,
        revision: str | None, cache_dir: str | None, lenient: bool,
    ) -> EvalDataset:
        return _relabel(load_folder(spec, tasks, query_variant, long_documents, lenient), name)

    return load


BENCHMARKS: dict[str, Benchmark] = {
    "bright": Benchmark(
        "bright", _load_bright, BRIGHT_TASKS, BRIGHT_TASK_GROUPS, BRIGHT_INSTRUCTIONS, BRIGHT_LONG_INSTRUCTIONS
    ),
    "r2med": Benchmark("r2med", _load_r2med, R2MED_TASKS, {}, R2MED_INSTRUCTIONS),
    "beir": Benchmark("beir", _folder_loader("beir"), self_exclude=True),
    "local": Benchmark("local", _folder_loader("local")),
}


def get_benchmark(name: str) -> Benchmark:
    if name not in BENCHMARKS:
        raise ConfigError(f"unknown benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name]


def infer_benchmark(spec: str | Path) -> str:
    """Which entry a dataset spec belongs to when the user names none: the hub names, a BRIGHT
    repository snapshot, a folder in BEIR's or R2MED's own layout; any other folder is "local"
    (whatever its name)."""
    text = str(spec).lower()
    if text in ("bright", BRIGHT_HUB_ID.lower()):
        return "bright"
    if text == R2MED_HUB_ORG.lower():
        return "r2med"
    path = Path(str(spec))
    layout = folder_layout(path) if path.is_dir() else None
    if layout == "bright-hub":
        return "bright"
    return layout if layout in ("beir", "r2med") else "local"


def describe(benchmark: Benchmark, **extra: Any) -> dict[str, Any]:
    """What the manifest records about the benchmark's rules."""
    return {"name": benchmark.name, "self_exclude": benchmark.self_exclude, "groups": dict(benchmark.groups), **extra}
