#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine that has Swift 6: nc for the protocol tour, then release builds.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "setup: Swift 6 is required (https://www.swift.org/install/)" >&2; exit 1; }
if ! command -v nc >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq netcat-openbsd >/dev/null
    else echo "setup: nc not found; install it with: sudo apt-get install netcat-openbsd" >&2; fi
fi
swift build -c release
echo "setup: built .build/release/actor-chat-server and .build/release/actor-chat-cli"
