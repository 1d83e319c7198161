#!/usr/bin/env bash
# Issue #20's history latency: `rooms` at RATE msgs/s (default 25,000, half the store's capacity)
# with the store on, and meanwhile a 50-message `history` every 10 ms, timed twice: by the load
# test's own probe (`--history-probe`) and by a blocking client (scripts/history-probe.py), whose
# reading has no client-side thread hand-offs in it.
#   scripts/history-probe.sh [--rate RATE] [--seconds S]
# ACTOR_CHAT_BIN=DIR uses the binaries in DIR as they are, without building.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=25000 seconds=8
while [ $# -gt 0 ]; do
    case "$1" in
        --rate) rate=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "usage: scripts/history-probe.sh [--rate RATE] [--seconds S]" >&2; exit 2 ;;
    esac
done
if [ -n "${ACTOR_CHAT_BIN:-}" ]; then
    bin=$ACTOR_CHAT_BIN
else
    swift build -c release >&2
    bin=.build/release
fi
source scripts/load-limits.sh
out=$(mktemp) data=$(mktemp -d)
server= probe=
trap '[ -z "$probe" ] || kill "$probe" 2>/dev/null; [ -z "$server" ] || kill "$server" 2>/dev/null; rm -rf "$out" "$data"' EXIT
token=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
"$bin/actor-chat-server" --host 127.0.0.1 --port 0 "${load_limits[@]}" --data-dir "$data" --admin-token "$token" </dev/null >"$out" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$out" | cut -d: -f2 || true)
[ -n "$port" ] || { echo "history-probe: the server did not start" >&2; exit 1; }
python3 scripts/history-probe.py "$port" "$token" "$seconds" &
probe=$!
"$bin/actor-chat-cli" loadtest --host 127.0.0.1 --port "$port" --server-pid "$server" --token "$token" \
    --scenario rooms --rate "$rate" --seconds "$seconds" --history-probe 2>/dev/null | grep -A2 "history  history"
wait "$probe"
probe=
