#!/usr/bin/env bash
# Sets up everything oncall-tui needs in ./.venv. Sourced by demo.sh and test.sh.
# With --with-alertmanager it also installs Debian's prometheus-alertmanager (for the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "oncall-tui needs Python 3.11 or newer (found: $("$python" --version 2>&1 || echo none))" >&2
    exit 2
fi

if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv" >&2
    "$python" -m venv .venv
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.oncall-tui-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: installing oncall-tui and its test tools into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
    echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--with-alertmanager" ] && ! { command -v prometheus-alertmanager && command -v promtool; } >/dev/null; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo="missing"; fi
    if [ "$sudo" = missing ] || ! command -v apt-get >/dev/null; then
        echo "setup: cannot install prometheus-alertmanager here (needs apt-get and root); integration tests will skip" >&2
    else
        echo "setup: installing prometheus-alertmanager and prometheus (Debian) for the integration tests" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq prometheus-alertmanager prometheus >/dev/null
    fi
fi
