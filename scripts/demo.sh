#!/usr/bin/env bash
# One command for a newcomer: set up, then run the console against the embedded simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/oncall-tui demo "$@"
