#!/usr/bin/env bash
# Developer loop: build the extensions in-tree (build/dev) and drop them next to the Python
# sources, so that `PYTHONPATH=python pytest` tests the working tree without reinstalling.
# Usage: bash scripts/dev-build.sh [extra cmake -D args]   (GSA_FAST_CUDA=OFF to skip nvcc)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${GSA_DEV_BUILD_DIR:-build/dev}
py=${PYTHON:-python3}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$(command -v "$py")" \
  -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" "$@" >/dev/null
cmake --build "$build"
for so in "$build"/_core*.so "$build"/_cuda*.so; do
  [ -e "$so" ] && cp -f "$so" python/gsa_fast/
done
echo "built into python/gsa_fast ($(ls python/gsa_fast/*.so | xargs -n1 basename | tr '\n' ' '))"
