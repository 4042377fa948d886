#!/usr/bin/env bash
# On any machine with a CUDA GPU and nvcc: build with CUDA forced on into a fresh target folder,
# run the whole test suite (the "cuda" side of the `device` fixture and the GPU tests included)
# and the GPU benchmarks (see bench/results/gpu.md). Logs go to $OUT (default: a temp folder).
# Offline machines: put the scipy-openblas32 wheel for this Python in $WHEELS (default .whl/).
# Usage: bash bench/gpu_run.sh [extra pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
wheels=${WHEELS:-.whl}
if compgen -G "$wheels/*.whl" > /dev/null; then
  "$py" -m pip install -q --no-index --no-deps --target "$site" "$wheels"/*.whl || exit 1
else
  "$py" -m pip install -q --no-deps --target "$site" scipy-openblas32 || exit 1
fi
export PYTHONPATH=$site
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
GSA_FAST_CUDA=ON "$py" -m pip install -q --no-build-isolation --no-deps --target "$site" . 2>&1 | tail -5
"$py" -c "import gsa_fast, json; print(json.dumps(gsa_fast.build_info()))"
"$py" bench/two_stage_gpu.py 2>&1 | tee "$out/two_stage.txt"  # two-stage vs syevd vs cupy f32
"$py" -m pytest -q -p no:cacheprovider tests "$@" > "$out/tests.txt" 2>&1
tail -8 "$out/tests.txt"
"$py" bench/report.py bench/bench_gpu.py > "$out/bench.txt" 2>&1
grep -E "^\||^Machine|passed|failed" "$out/bench.txt"
# issue 12's targets (big matrix, Llama-3-70B-shaped slice, reductions' bandwidth): one table each
timeout "${TARGETS_TIMEOUT:-300}" "$py" bench/gpu_targets.py > "$out/targets.txt" 2>&1
cat "$out/targets.txt"
echo "logs in $out"
