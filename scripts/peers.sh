#!/usr/bin/env bash
# Runs one scenario against ActorChat and the pub/sub servers it competes with, one server at a
# time on this machine, with the same independent C generator (scripts/peers/loadgen.c: one
# message per write unless --pipeline N, constant offered rate, due-time latency). Servers not installed are skipped;
# on Debian: apt-get install redis-server nats-server. Arguments go to the generator, e.g.:
#   scripts/peers.sh --scenario rooms --rate 40000 --sweep
#   scripts/peers.sh --scenario fanout-1000 --rate 1000 --seconds 5 --rounds 3
#   scripts/peers.sh --scenario connections --clients 19000 --rounds 3
# `connections` is issue #23's join storm: every client logs in, then every client joins one of the
# rooms of 190 at once; it pits ActorChat against scripts/peers/join-floor.c, a minimal C server
# that answers login and join with what ActorChat sends (the room list, the member list, and a
# `user_joined` to every member already in). Redis and NATS send no such notices and sit it out.
# --rounds N repeats the whole sequence N times, so each server's runs are interleaved with the
# others' and the comparison is not skewed by the machine's noise drifting over time. --svg FILE
# draws every server's steps in one chart (a path relative to the repository; with --rounds, the
# last round's). --with-store adds ActorChat with its store on (in a temporary directory), beside
# the one without (--memory), and Redis keeping history as chat servers built on it do (every
# message also XADDed to its room's stream, with the append-only file written at once and synced
# every second, which like ActorChat's default survives a kill -9), and the floor keeping every
# message in SQLite before it fans it out (fanout-floor --store): what history costs each.
# --pin gives the server one CPU and the generator the others (taskset). Unpinned on two cores, a
# server that runs two threads takes CPU from the generator, and the run then measures how the
# scheduler split the machine; pinned, every server gets the same one core, and the generator its
# own (which it can still fill: its CPU per step is in the rows).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load-limits.sh
source scripts/free-port.sh
rounds=1 args=() svg= scenario=fanout-100 command="scripts/peers.sh $*" with_store= pin= pin_server=() pin_generator=()
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --svg) svg=$2; shift 2 ;;
        --with-store) with_store=1; shift ;;
        --pin) pin=1; shift ;;
        --scenario) scenario=$2; args+=("$1" "$2"); shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
# The CPUs this process may run on (a cpuset may leave out CPU 0), one number per line.
allowed_cpus() {
    local range
    for range in $(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',' ' '); do
        seq "${range%-*}" "${range#*-}"
    done
}
if [ -n "$pin" ]; then
    mapfile -t cpus < <(allowed_cpus)
    if [ "${#cpus[@]}" -ge 2 ]; then
        pin_server=(taskset -c "${cpus[0]}")
        pin_generator=(taskset -c "$(IFS=,; echo "${cpus[*]:1}")")
    else
        echo "peers: --pin needs two CPUs and this process may use ${#cpus[@]}; running unpinned" >&2
    fi
fi
swift build -c release >&2
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
cc -O2 -Wall -o "$work/loadgen" scripts/peers/loadgen.c -lpthread
cc -O2 -Wall -o "$work/fanout-floor" scripts/peers/fanout-floor.c -lsqlite3 -lpthread
cc -O2 -Wall -o "$work/join-floor" scripts/peers/join-floor.c


# Starts a server on $port in the background ($server is its pid) and waits until it accepts.
start() {
    case "$1" in
        actorchat) "${pin_server[@]}" .build/release/actor-chat-server --host 127.0.0.1 --port "$port" "${load_limits[@]}" --memory </dev/null >"$work/log" 2>&1 & ;;
        actorchat-store) rm -rf "$work/data"
            "${pin_server[@]}" .build/release/actor-chat-server --host 127.0.0.1 --port "$port" "${load_limits[@]}" --data-dir "$work/data" </dev/null >"$work/log" 2>&1 & ;;
        redis) "${pin_server[@]}" redis-server --port "$port" --bind 127.0.0.1 --protected-mode no --save '' --appendonly no --maxclients 20000 >"$work/log" 2>&1 & ;;
        redis-history) rm -rf "$work/redis" && mkdir "$work/redis"
            "${pin_server[@]}" redis-server --port "$port" --bind 127.0.0.1 --protected-mode no --save '' --appendonly yes --appendfsync everysec --dir "$work/redis" \
                --maxclients 20000 >"$work/log" 2>&1 & ;;
        nats) "${pin_server[@]}" nats-server -a 127.0.0.1 -p "$port" >"$work/log" 2>&1 & ;;
        floor) if [ "$scenario" = connections ]; then "${pin_server[@]}" "$work/join-floor" "$port" >"$work/log" 2>&1 &
               else "${pin_server[@]}" "$work/fanout-floor" "$port" >"$work/log" 2>&1 & fi ;;
        floor-store) rm -rf "$work/floor-data" && mkdir "$work/floor-data"
            "${pin_server[@]}" "$work/fanout-floor" "$port" --store "$work/floor-data/messages.db" >"$work/log" 2>&1 & ;;
    esac
    server=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return; sleep 0.05; done
    echo "peers: $1 did not start:" >&2; cat "$work/log" >&2; exit 1
}

peers=(actorchat)
[ -z "$with_store" ] || peers+=(actorchat-store)
if [ "$scenario" = connections ]; then
    peers+=(floor)
else
    command -v redis-server >/dev/null && peers+=(redis) || echo "peers: redis-server not installed, skipped" >&2
    [ -z "$with_store" ] || ! command -v redis-server >/dev/null || peers+=(redis-history)
    command -v nats-server >/dev/null && peers+=(nats) || echo "peers: nats-server not installed, skipped" >&2
    peers+=(floor)
    [ -z "$with_store" ] || peers+=(floor-store)
fi
echo "peers: ${peers[*]}; $(nproc) cores${pin_server:+, server pinned to CPU ${pin_server[2]}}, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ); generator: ${args[*]}" >&2
echo "peers: ActorChat runs with the load test's limits raised (${load_limits[*]}); redis-server with persistence off; nats-server as installed; floor speaks Redis's protocol (ActorChat's login and join for connections)" >&2
failed=0
for round in $(seq "$rounds"); do
    for peer in "${peers[@]}"; do
        port=$(free_port)
        start "$peer"
        # A peer failing the pass rule is a finding; ActorChat failing it fails the script (CI runs it).
        protocol=$peer; [ "${peer%-store}" = floor ] && protocol=redis; [ "$peer" = actorchat-store ] && protocol=actorchat; [ "$peer" = redis-history ] && protocol=redis-history
        [ "$scenario" != connections ] || protocol=actorchat
        [ "$peer" = "${peers[0]}" ] && : >"$work/rows"
        "${pin_generator[@]}" "$work/loadgen" --protocol "$protocol" --label "$peer" --port "$port" --server-pid "$server" "${args[@]}" | tee -a "$work/rows" |
            { [ "$round$peer" = "1actorchat" ] || [ "$scenario" = connections ] && cat || tail -n +2; } || { [ "${peer%-store}" != actorchat ] || failed=1; }
        kill "$server"; wait "$server" 2>/dev/null || true
        server=
    done
done
if [ -n "$svg" ]; then
    .build/release/actor-chat-cli chart --rows "$work/rows" --svg "$svg" --scenario "$scenario" \
        --caption "$command; $(nproc) cores, $(uname -m), $(date -u +%Y-%m-%dT%H:%MZ)"
fi
exit "$failed"
