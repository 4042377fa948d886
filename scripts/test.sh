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
"$py" -c "import gsa_fast, json; print(json.dumps(gsa_fast.build_info(), indent=1))"
"$py" -m pytest tests "$@"
"$py" -m pytest bench -q --benchmark-disable -p no:cacheprovider
