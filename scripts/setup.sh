#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine that has Swift 6: the system libraries the build links
# (libsqlite3-dev for the history store, libcrypt-dev and libssl-dev for accounts), nc for the
# protocol tour, tmux for the tests of the chat
# client's screen (they are skipped without it), then release builds, copied to ~/.local/bin by
# scripts/install.sh.
# --deps-only installs and stops there (CI builds by itself).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || { echo "setup: Swift 6 is required (https://www.swift.org/install/)" >&2; exit 1; }
missing=()
[ -f /usr/include/sqlite3.h ] || missing+=(libsqlite3-dev)
[ -f /usr/include/crypt.h ] || missing+=(libcrypt-dev)
[ -f /usr/include/openssl/evp.h ] || missing+=(libssl-dev)
command -v nc >/dev/null || missing+=(netcat-openbsd)
command -v tmux >/dev/null || missing+=(tmux)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "setup: installing ${missing[*]}" >&2
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "setup: missing ${missing[*]}; install with: sudo apt-get install ${missing[*]}" >&2
        for library in libsqlite3-dev libcrypt-dev libssl-dev; do [[ " ${missing[*]} " == *" $library "* ]] && exit 1; done
    fi
fi
[ "${1:-}" = --deps-only ] && exit 0
swift build -c release
echo "setup: built .build/release/actor-chat-server and .build/release/actor-chat-cli"
scripts/install.sh
