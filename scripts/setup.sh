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

[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null

args=(-e ".[dev,cli]")
for plugin in plugins/*/; do
  if [ -f "${plugin}pyproject.toml" ]; then
    if grep -q '^dev = ' "${plugin}pyproject.toml"; then args+=(-e "${plugin}[dev]"); else args+=(-e "${plugin}"); fi
  fi
done
.venv/bin/python -m pip install -q --disable-pip-version-check "${args[@]}"
