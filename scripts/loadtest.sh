#!/usr/bin/env bash
# Builds release binaries, starts a server on loopback with the load test's limits, runs a scenario
# and prints one table. Every argument goes to `actor-chat-cli loadtest`, for example:
#   scripts/loadtest.sh --scenario fanout-100 --rate 2000 --seconds 5     (a first look: one 5-s step)
#   scripts/loadtest.sh --scenario fanout-100 --sweep
#   scripts/loadtest.sh --scenario rooms --rate 100000 --seconds 10 --json figures.json
#   scripts/loadtest.sh --scenario connections --clients 19000
#   scripts/loadtest.sh --scenario churn --seconds 10
# The server keeps its history in a fresh store in a temporary directory (as a server does by
# default); --memory runs it without one. Both flags are this script's, not the generator's.
# With the store on, a second table gives its commits per step; --history-probe adds how long a
# 50-message `history` takes meanwhile. --svg FILE draws the steps as a chart (a path relative to the
# repository, as is --json's).
# ACTOR_CHAT_BIN=DIR uses the binaries in DIR as they are, without building (a frozen build to
# measure while the sources change). The script starts the server itself and passes the generator
# its --host, --port, --server-pid, --token and --caption.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${ACTOR_CHAT_BIN:-}" ]; then
    bin=$ACTOR_CHAT_BIN
else
    swift build -c release >&2
    bin=.build/release
fi
# Help needs no server: this script's own flags, then the generator's (whose --host, --port,
# --server-pid, --token and --caption the script sets).
for arg in "$@"; do
    if [ "$arg" = --help ] || [ "$arg" = -h ]; then
        sed -n '2,/^set -euo/p' scripts/loadtest.sh | sed '$d; s/^# \{0,1\}//'
        echo
        "$bin/actor-chat-cli" loadtest --help
        exit 0
    fi
done
out=$(mktemp)
data=$(mktemp -d)
# The EXIT trap keeps the run's status: under --restart the first server is already gone, and a
# failing kill or wait there must not turn a passed run into a failed one.
server=
trap 'status=$?; [ -z "$server" ] || { kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; } || true; rm -rf "$out" "$data"; exit $status' EXIT
store=(--data-dir "$data") args=()
for arg in "$@"; do
    case "$arg" in
        --memory) store=(--memory) ;;
        --store) store=(--data-dir "$data") ;;
        *) args+=("$arg") ;;
    esac
done

source scripts/load-limits.sh
# An admin token of this run only, so the generator can read the store's figures from `stats`.
token=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
echo "loadtest: server limits raised for load: ${load_limits[*]}; store: ${store[*]}" >&2
"$bin/actor-chat-server" --host 127.0.0.1 --port 0 "${load_limits[@]}" "${store[@]}" --admin-token "$token" </dev/null >"$out" &
server=$!
for _ in $(seq 100); do grep -q "listening on" "$out" && break; sleep 0.1; done
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$out" | cut -d: -f2 || true)
[ -n "$port" ] || { echo "loadtest: the server did not start" >&2; exit 1; }
machine="$(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "loadtest: server pid $server on 127.0.0.1:$port; $machine" >&2
"$bin/actor-chat-cli" loadtest --host 127.0.0.1 --port "$port" --server-pid "$server" --token "$token" \
    --caption "scripts/loadtest.sh $* ($([ "${store[0]}" = --memory ] && echo no store || echo store on)); $machine" ${args[@]+"${args[@]}"}
