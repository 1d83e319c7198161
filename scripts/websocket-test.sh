#!/usr/bin/env bash
# The WebSocket gateway against an independent client (Python's websockets, pinned) and the
# metrics through promtool. Installs what it needs (scripts/test-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/test-tools.sh)
swift build -c release --product actor-chat-server >/dev/null
"$python" scripts/web/websocket_conformance.py .build/release/actor-chat-server
