#!/usr/bin/env bash
# On any machine with a CUDA GPU and nvcc: build with CUDA forced on, run the GPU tests, then the
# GPU benchmarks and issue 12's targets (record the output in bench/results/gpu.md).
#
# Usage: bash bench/gpu_run.sh [PHASES] [extra pytest args]
#   PHASES: a comma list of build, gputests, sanitize, tests, two_stage, bench, targets
#           (default: build,gputests,two_stage,bench,targets; "tests" is the whole suite;
#           "sanitize" runs the device tests of our own kernels under compute-sanitizer).
#   A lent device allows 10 minutes a command: run "build,gputests" in one call and
#   "two_stage,bench,targets" in the next. The build lives in .device/site/ (git-ignored) and is
#   reused by later calls on the same machine; "build" rebuilds it.
# TARGETS_ARGS passes options to bench/gpu_targets.py (e.g. "--only llama --blocks 2 --driver band_device").
# Logs go to $OUT (default: a temp folder). Offline machines (the lent GPU machine is one; its image
# has cupy, torch, pybind11, scikit-build-core, cmake and ninja but not scipy-openblas32): put the
# scipy-openblas32 wheel in $WHEELS (default .whl/, git-ignored; carry it), fetched here with
#   python3 -m pip download --no-deps --only-binary=:all: -d .whl scipy-openblas32
# (a py3-none wheel: the same file serves the device's Python 3.12).
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
out=${OUT:-$(mktemp -d)}
phases=${1:-build,gputests,two_stage,bench,targets}
[ $# -gt 0 ] && shift
site=$PWD/.device/site
wheels=${WHEELS:-.whl}
has() { [[ ",$phases," == *",$1,"* ]]; }
t0=$SECONDS
stamp() { echo "[gpu_run] $1 done at +$((SECONDS - t0)) s"; }

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
if has build || [ ! -d "$site/gsa_fast" ]; then
  rm -rf "$site" && mkdir -p "$site"
  if compgen -G "$wheels/*.whl" > /dev/null; then
    "$py" -m pip install -q --no-index --no-deps --target "$site" "$wheels"/*.whl || exit 1
  else
    "$py" -m pip install -q --no-deps --target "$site" scipy-openblas32 || exit 1
  fi
  # the build itself imports scipy_openblas32 (CMakeLists.txt): from $site on a machine without it
  PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" GSA_FAST_CUDA=ON \
    "$py" -m pip install -q --no-build-isolation --no-deps --target "$site" . 2>&1 | tail -5
  stamp build
fi
export PYTHONPATH=$site
"$py" -c "import gsa_fast, json; print(json.dumps(gsa_fast.build_info()))" || exit 1

if has gputests; then  # every test marked gpu (tests/conftest.py marks them all): minutes, not the suite
  # first the cupy API check (seconds; needs cupy, not a device): names and signatures of every call
  "$py" -m pytest -q -p no:cacheprovider tests/test_cupy_api.py 2>&1 | tail -3
  "$py" -m pytest -q -p no:cacheprovider -m gpu -rs tests "$@" > "$out/gputests.txt" 2>&1
  grep -E "passed|failed|error" "$out/gputests.txt" | tail -3
  grep -E "^(FAILED|ERROR)" "$out/gputests.txt" | head -40
  stamp gputests
fi
if has sanitize; then  # our kernels under compute-sanitizer: out-of-bounds/misaligned accesses and
  # shared-memory races in kernels that the CPU tests can only cover through their shared headers.
  # Needs a runtime where the sanitizer sees the device (KINDS.md: Firecracker yes, gVisor no).
  san=${SANITIZER:-compute-sanitizer}
  if command -v "$san" > /dev/null; then
    for tool in memcheck racecheck; do
      timeout "${SANITIZE_TIMEOUT:-240}" "$san" --tool "$tool" --error-exitcode 99 --print-limit 20 \
        "$py" -m pytest -q -p no:cacheprovider -m gpu -x tests/test_bulge.py tests/test_tridiag.py \
        tests/test_depth.py tests/test_esd.py tests/test_charts.py tests/test_tails.py "$@" \
        > "$out/sanitize_$tool.txt" 2>&1
      echo "[gpu_run] compute-sanitizer $tool: exit $? (0 clean, 99 errors found, 124 timed out)"
      grep -E "========= (ERROR|Invalid|Race|.*hazard)|passed|failed" "$out/sanitize_$tool.txt" | head -20
    done
  else
    echo "[gpu_run] sanitize: $san not found"
  fi
  stamp sanitize
fi
if has tests; then
  "$py" -m pytest -q -p no:cacheprovider tests "$@" > "$out/tests.txt" 2>&1
  tail -8 "$out/tests.txt"
  stamp tests
fi
if has two_stage; then  # two-stage vs syevd vs cupy f32 (docs/gpu.md)
  timeout "${TWO_STAGE_TIMEOUT:-180}" "$py" bench/two_stage_gpu.py 2>&1 | tee "$out/two_stage.txt"
  stamp two_stage
fi
if has bench; then
  timeout "${BENCH_TIMEOUT:-300}" "$py" bench/report.py bench/bench_gpu.py > "$out/bench.txt" 2>&1
  grep -E "^\||^Machine|passed|failed" "$out/bench.txt"
  stamp bench
fi
if has targets; then  # issue 12's targets: big matrix, Llama-3-70B-shaped slice, reductions' bandwidth
  timeout "${TARGETS_TIMEOUT:-240}" "$py" bench/gpu_targets.py ${TARGETS_ARGS:-} > "$out/targets.txt" 2>&1
  cat "$out/targets.txt"
  stamp targets
fi
echo "logs in $out"
