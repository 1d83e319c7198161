#!/usr/bin/env bash
# Compares two ActorChat servers under one fixed load, their runs interleaved, and prints what each
# costs per message and the ratio B/A of the medians: the way to tell whether a change made the
# server cheaper on a machine whose speed drifts by more than the change. Each side is a server
# binary or a git revision (built in a temporary worktree); the load is scripts/peers/loadgen.c at
# a constant rate, one step, no sweep. Arguments after -- go to the generator, e.g.:
#   scripts/compare.sh HEAD~1 HEAD -- --scenario rooms --rate 45000 --seconds 3
#   scripts/compare.sh --rounds 6 /tmp/old-server .build/release/actor-chat-server -- --scenario fanout-1000 --rate 1000
#   scripts/compare.sh --a-flags --memory HEAD HEAD -- --scenario rooms --rate 45000   # the store against none
# --a-flags and --b-flags add server flags to one side. Each run starts the server in a fresh empty
# directory, so its default store (./actor-chat-data) starts empty and is thrown away.
# Columns: the step's latency, the server's CPU per offered message (from /proc), the same for its
# loop thread (io) and its sessions' thread (sess) over the whole run, and, when perf can trace this
# process, syscalls and context switches per message over the whole run. The threads' columns tell
# where a change moved the work: a thread that does less may only sleep and wake more often.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load-limits.sh
source scripts/free-port.sh
rounds=4 sides=() args=() flags=("" "")
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) rounds=$2; shift 2 ;;
        --a-flags) flags[0]=$2; shift 2 ;;
        --b-flags) flags[1]=$2; shift 2 ;;
        --) shift; args=("$@"); break ;;
        *) sides+=("$1"); shift ;;
    esac
done
if [ "${#sides[@]}" -ne 2 ]; then
    echo "usage: scripts/compare.sh [--rounds N] A B -- GENERATOR-ARGS (A, B: a server binary or a git revision)" >&2
    exit 2
fi
work=$(mktemp -d)
server= perfpid=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    for tree in "$work"/tree-*; do [ -d "$tree" ] && git worktree remove --force "$tree"; done
    rm -rf "$work"
}
trap cleanup EXIT
cc -O2 -Wall -o "$work/loadgen" scripts/peers/loadgen.c -lpthread

# A binary is used as given; anything else is a revision, built in release mode.
binaries=()
for index in 0 1; do
    side=${sides[$index]}
    if [ -f "$side" ] && [ -x "$side" ]; then
        binaries+=("$(realpath "$side")")
    else
        tree="$work/tree-$index"
        git worktree add --quiet --detach "$tree" "$side"
        echo "compare: building $side ($(git -C "$tree" rev-parse --short HEAD))" >&2
        swift build -c release --package-path "$tree" --product actor-chat-server >&2
        binaries+=("$tree/.build/release/actor-chat-server")
    fi
done

events=task-clock,context-switches,syscalls:sys_enter_sendto,syscalls:sys_enter_sendmsg,syscalls:sys_enter_read,syscalls:sys_enter_futex
perf_works=0
perf stat -e "$events" true >/dev/null 2>&1 && perf_works=1 || echo "compare: perf cannot trace here; CPU from /proc only" >&2
rate= seconds=3
for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[$i]}" in
        --rate) rate=${args[$((i + 1))]} ;;
        --seconds) seconds=${args[$((i + 1))]} ;;
    esac
done
[ -n "$rate" ] || { echo "compare: give the generator a --rate (messages/s)" >&2; exit 2; }
messages=$(awk -v r="$rate" -v s="$seconds" 'BEGIN { print r * s }')
echo "compare: A=${sides[0]} ${flags[0]} B=${sides[1]} ${flags[1]}; $rounds interleaved rounds; generator: ${args[*]}; $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)" >&2


# One run: prints "p50 p99 ratio cpu_us io_us sess_us sends read futex cs" (per message, sends being sendto and sendmsg; "-" where perf is out).
run() {
    local port cwd
    port=$(free_port)
    cwd=$(mktemp -d "$work/run-XXXX")
    # shellcheck disable=SC2086 # the side's flags are words
    (cd "$cwd" && exec "$1" --host 127.0.0.1 --port "$port" "${load_limits[@]}" $2) </dev/null >"$work/log" 2>&1 &
    server=$!
    for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
    if [ "$perf_works" = 1 ]; then
        perf stat -x, -e "$events" -p "$server" -o "$work/perf" &
        perfpid=$!
    fi
    "$work/loadgen" --protocol actorchat --port "$port" --server-pid "$server" "${args[@]}" >"$work/out" 2>/dev/null || true
    if [ -n "$perfpid" ]; then kill -INT "$perfpid"; wait "$perfpid" 2>/dev/null || true; perfpid=; fi
    # Thread names carry no spaces, so fields 14 and 15 of stat are user and system ticks.
    local threads
    threads=$(for task in /proc/"$server"/task/*; do echo "$(cat "$task/comm") $(cut -d' ' -f14,15 "$task/stat")"; done |
        awk -v m="$messages" -v hz="$(getconf CLK_TCK)" '$1 == "chat-io" { io = $2 + $3 } $1 == "chat-sessions" { s = $2 + $3 }
            END { printf "%.2f %.2f", io / hz * 1e6 / m, s / hz * 1e6 / m }')
    kill "$server"; wait "$server" 2>/dev/null || true
    server=
    local step
    step=$(awk '$1 == "actorchat" && $2 ~ /^[0-9]+$/ { line = $0 } END { print line }' "$work/out")
    [ -n "$step" ] || { echo "compare: the generator reported no step:" >&2; cat "$work/out" >&2; exit 1; }
    local counts="- - - -"
    if [ "$perf_works" = 1 ]; then
        counts=$(awk -F, -v m="$messages" '
            $3 ~ /sendto|sendmsg/ { s += $1 } $3 ~ /sys_enter_read/ { r = $1 } $3 ~ /futex/ { f = $1 } $3 ~ /context-switches/ { c = $1 }
            END { printf "%.2f %.2f %.2f %.2f", s / m, r / m, f / m, c / m }' "$work/perf")
    fi
    echo "$step" | awk -v m="$messages" -v threads="$threads" -v counts="$counts" '{ printf "%s %s %s %.1f %s %s\n", $6, $8, $5, $13 * 1e6 / m, threads, counts }'
}

format='%-6s %5s %8s %8s %6s %10s %9s %11s %10s %8s %9s %7s\n'
printf "$format" side round p50ms p99ms ratio "cpu µs/msg" "io µs/msg" "sess µs/msg" sends/msg read/msg futex/msg cs/msg
for round in $(seq "$rounds"); do
    for index in 0 1; do
        name=$([ "$index" = 0 ] && echo A || echo B)
        run "${binaries[$index]}" "${flags[$index]}" >"$work/one"
        figures=$(cat "$work/one")
        echo "$name $figures" >>"$work/figures"
        printf "$format" "$name" "$round" $figures
    done
done
# Medians per side, then B/A for each column both sides have.
awk -v format="$format" '
    { for (c = 2; c <= 11; c++) values[$1, c, ++n[$1, c]] = $c }
    function median(side, c,   count, i, j, t, v) {
        count = n[side, c]
        for (i = 1; i <= count; i++) v[i] = values[side, c, i]
        if (v[1] == "-") return "-"
        for (i = 2; i <= count; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
        return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
    }
    END {
        for (c = 2; c <= 11; c++) { a[c] = median("A", c); b[c] = median("B", c); r[c] = a[c] == "-" || a[c] + 0 == 0 ? "-" : sprintf("%.2f", b[c] / a[c]) }
        printf format, "A", "med", a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]
        printf format, "B", "med", b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]
        printf format, "B/A", "", r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]
    }' "$work/figures"
