#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run every test suite: the core's and each plug-in's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
paths=(tests)
for plugin in plugins/*/; do [ -d "${plugin}tests" ] && paths+=("${plugin}tests"); done
exec .venv/bin/python -m pytest "${paths[@]}" "$@"
