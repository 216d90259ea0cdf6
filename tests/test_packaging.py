"""What a fresh install gets: no exact pins that block GPU users, every imported package declared,
test-only peers kept out of the runtime requirements, and the README's install line is CI's."""

from __future__ import annotations

import ast
import re
import sys
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
RUNTIME = PYPROJECT["project"]["dependencies"]
DEV = PYPROJECT["project"]["optional-dependencies"]["dev"]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def _third_party_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "reasonembed"}


def test_no_exact_pins_in_runtime_requirements():
    pinned = [r for r in RUNTIME if "==" in r]
    assert not pinned, f"exact pins block users' own builds (torch on GPU): {pinned}"


def test_cpu_torch_choice_lives_in_the_install_line():
    constraints = (ROOT / "constraints-cpu.txt").read_text(encoding="utf-8")
    assert re.search(r"^torch==\d", constraints, re.M)
    install = (ROOT / "README.md").read_text(encoding="utf-8").split("```bash", 1)[1].splitlines()[1]
    assert "-c constraints-cpu.txt" in install
    assert install.split("#")[0].strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_test_only_peers_are_not_runtime_requirements():
    runtime = {_name(r) for r in RUNTIME}
    assert not runtime & {"openai", "rank-bm25", "httpx", "bm25s", "rich"}
    assert {"openai", "rank-bm25", "httpx"} <= {_name(r) for r in DEV}


def test_every_package_the_library_imports_is_declared():
    declared = {_name(r) for r in RUNTIME}
    mapping = metadata.packages_distributions()
    missing = {}
    for module in sorted(_third_party_imports(ROOT / "src" / "reasonembed")):
        dists = {d.lower().replace("_", "-") for d in mapping.get(module, [])}
        if not dists:
            pytest.fail(f"src imports {module!r}, which no installed distribution provides")
        if not dists & declared:
            missing[module] = sorted(dists)
    assert not missing, f"imported by src but not in [project].dependencies: {missing}"
