#!/usr/bin/env bash
# What was run on the lent GPU machine (see bench/results/gpu.md): build with CUDA forced on, run
# the whole test suite (GPU tests included) and the GPU benchmarks. Expects scipy-openblas32's
# wheel for the machine's Python in .whl/ (no network there). Full logs go to $OUT when set.
set -uo pipefail
export PYTHONUNBUFFERED=1
out=${OUT:-/tmp}
rm -rf /tmp/site  # a warm machine keeps the last install: start clean
python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
GSA_FAST_CUDA=ON python3 -m pip install -q --no-build-isolation --no-deps --target /tmp/site . 2>&1 | tail -5
python3 -c "import gsa_fast, json; print(json.dumps(gsa_fast.build_info()))"
python3 -m pytest -q -p no:cacheprovider tests "$@" > "$out/tests.txt" 2>&1
tail -8 "$out/tests.txt"
python3 bench/report.py bench/bench_gpu.py > "$out/bench.txt" 2>&1
grep -E "^\||^Machine|passed|failed" "$out/bench.txt"
