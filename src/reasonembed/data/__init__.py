"""Small real datasets shipped inside the package, so the quickstart runs with no download.

Why bundled: the Hugging Face hub may be unreachable (it is on the project's machines), and a
newcomer's first run must not depend on it. Each dataset is a folder in BRIGHT layout
(`documents.jsonl` {id, content}; `examples.jsonl` {id, query, gold_ids, excluded_ids, ...}) with
its README (how it was built) and its source licence (LICENSE or NOTICE).

    from reasonembed.data import bundled_dataset, BUNDLED_DATASETS
    folder = bundled_dataset("theoremqa_q_dev")     # pathlib.Path
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from reasonembed.errors import ConfigError


@dataclass(frozen=True)
class BundledDataset:
    name: str
    description: str
    licence: str
    licence_file: str


BUNDLED_DATASETS: dict[str, BundledDataset] = {
    "theoremqa_q_dev": BundledDataset(
        name="theoremqa_q_dev",
        description="TheoremQA questions; relevant = solved with the same theorem (387 docs, 151 queries)",
        licence="MIT (TheoremQA, Chen et al. 2023)",
        licence_file="LICENSE",
    ),
    "entailmentbank_facts_dev": BundledDataset(
        name="entailmentbank_facts_dev",
        description="science questions; relevant = a leaf fact of the entailment tree (11,518 facts, 182 queries)",
        licence="Apache-2.0 (EntailmentBank, Dalvi et al. 2021; WorldTree facts, see NOTICE)",
        licence_file="NOTICE",
    ),
}

_FILES = ("documents.jsonl", "examples.jsonl", "README.md")


def bundled_dataset(name: str) -> Path:
    """Folder of a bundled dataset; raises ConfigError for an unknown name or a broken install."""
    if name not in BUNDLED_DATASETS:
        raise ConfigError(f"unknown bundled dataset {name!r}; available: {sorted(BUNDLED_DATASETS)}")
    folder = Path(str(resources.files("reasonembed.data").joinpath(name)))
    missing = [f for f in (*_FILES, BUNDLED_DATASETS[name].licence_file) if not (folder / f).is_file()]
    if missing:
        raise ConfigError(f"bundled dataset {name!r} at {folder} is missing {missing}: reinstall reasonembed")
    return folder


def theoremqa_q_dev() -> Path:
    return bundled_dataset("theoremqa_q_dev")


def entailmentbank_facts_dev() -> Path:
    return bundled_dataset("entailmentbank_facts_dev")
