#!/usr/bin/env bash
# The web client in real headless Chromium: two browser sessions and one TCP client in one room
# (login, a full room refused, chat both ways, markup shown as text, a server restart survived).
# Installs what it needs (scripts/test-tools.sh); screenshots go to .build/browser-test/.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/test-tools.sh)
swift build -c release --product actor-chat-server >/dev/null
rm -rf .build/browser-test
"$python" scripts/web/browser_test.py .build/release/actor-chat-server .build/browser-test
