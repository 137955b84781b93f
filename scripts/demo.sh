#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the demo: a synthetic portfolio through the daily
# collection cycle on an embedded SQLite database, ending with the KPI report.
# Options are passed on: bash scripts/demo.sh --loans 200 --days 90
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/loancollect demo "$@"
