#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo collection run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python examples/quickstart.py "$@"
