#!/usr/bin/env bash
# One command: set up (venv, packages, prometheus-alertmanager and prometheus), lint, then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-alertmanager
.venv/bin/python -m ruff check .
status=0
.venv/bin/python -m pytest -n 2 "$@" || status=$?  # two workers: CI machines have 2 cores
if [ "$status" = 5 ]; then
    echo "test.sh: pytest ran no test: that is a failure" >&2
    exit 1
fi
exit "$status"
