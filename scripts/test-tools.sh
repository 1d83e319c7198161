#!/usr/bin/env bash
# Installs what the web tests need beyond the build's libraries: Debian's chromium and
# chromium-driver (the browser test), prometheus (its promtool checks /metrics), and a Python
# virtual environment with pinned websockets and selenium. Prints the environment's python.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v promtool >/dev/null || missing+=(prometheus)
python3 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "test-tools: installing ${missing[*]}" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "test-tools: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
venv=.build/web-test-venv
if ! "$venv/bin/python" -c "import websockets, selenium" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r scripts/web/requirements.txt >&2
fi
echo "$venv/bin/python"
