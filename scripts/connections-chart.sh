#!/usr/bin/env bash
# Runs `scripts/loadtest.sh --scenario connections` once per client count, each against a fresh
# server (store on), and draws the server's memory and the time to connect, log in and join
# against the count, for example:
#   scripts/connections-chart.sh docs/charts/connections.svg 1000 5000 10000 15000 19000
# ACTOR_CHAT_BIN=DIR uses the binaries in DIR as they are, without building.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/connections-chart.sh OUT.svg [CLIENTS ...]}
shift
counts=("$@")
[ "${#counts[@]}" -gt 0 ] || counts=(1000 5000 10000 15000 19000)
if [ -z "${ACTOR_CHAT_BIN:-}" ]; then
    swift build -c release >&2
    export ACTOR_CHAT_BIN=.build/release
fi
runs=$(mktemp -d)
trap 'rm -rf "$runs"' EXIT
files=()
for clients in "${counts[@]}"; do
    scripts/loadtest.sh --scenario connections --clients "$clients" --json "$runs/$clients.json" >&2
    files+=(--connections "$runs/$clients.json")
done
"$ACTOR_CHAT_BIN/actor-chat-cli" chart "${files[@]}" --svg "$out" \
    --caption "scripts/connections-chart.sh $out ${counts[*]} (store on); $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
echo "connections-chart: wrote $out" >&2
