#!/usr/bin/env bash
# Create .venv (if missing) and install the core and every plug-in under plugins/
# in editable mode, with the development tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
  echo "loancollect needs Python >= 3.11 (found $("$PY" --version 2>&1))" >&2; exit 1; }

say() { printf 'setup: %s\n' "$*"; }

if [ -x .venv/bin/python ]; then
  say "using the existing virtual environment .venv ($(.venv/bin/python --version 2>&1))"
else
  say "creating the virtual environment .venv with $("$PY" --version 2>&1)"
  "$PY" -m venv .venv
fi
say "upgrading pip"
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null

# The core with the command line, the charts and the development tools (tests,
# type checker, linters, documentation site), then every plug-in, all editable.
args=(-e ".[dev,cli,charts]")
names=()
for plugin in plugins/*/; do
  if [ -f "${plugin}pyproject.toml" ]; then
    names+=("$(basename "$plugin")")
    if grep -q '^dev = ' "${plugin}pyproject.toml"; then args+=(-e "${plugin}[dev]"); else args+=(-e "${plugin}"); fi
  fi
done
say "installing loancollect[dev,cli,charts] and ${#names[@]} plug-in(s): ${names[*]}"
say "(a first install downloads the dependencies and may take a few minutes)"
started=$SECONDS
.venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
say "done in $((SECONDS - started)) s; run the tests with: bash scripts/test.sh"
