#!/usr/bin/env bash
# Counts the instructions the server executes under a load with valgrind's callgrind, and prints
# what each function on the request path costs per call. Instruction counts do not drift with the
# machine's speed as times do, so they resolve a change of a few percent in one function, which
# scripts/compare.sh (CPU time, about 6% resolution here) cannot. Under valgrind the server runs
# some 50 times slower and its threads take turns: keep the rate low, and read the per-call
# figures rather than the totals, which move with how requests happen to batch.
#   scripts/callgrind.sh [--out FILE] -- --scenario rooms --rate 1000 --seconds 4
# Arguments after -- go to `actor-chat-cli loadtest`. The whole profile stays in FILE (default
# /tmp/actor-chat.callgrind) for callgrind_annotate.
#
# Two things let valgrind 3.19 run a Swift 6.3 server:
# - debug information in DWARF 4: valgrind 3.19 gives up on the DWARF 5 that swiftc and clang emit;
# - a shim for sigsuspend: the main thread parks in libdispatch's sigsuspend, whose signal mask is
#   in read-only memory, and valgrind rewrites the mask it is given in place and crashes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load-limits.sh
source scripts/free-port.sh

out=/tmp/actor-chat.callgrind
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    case "$1" in
        --out) out=$2; shift 2 ;;
        *) echo "usage: scripts/callgrind.sh [--out FILE] -- LOADTEST-ARGUMENTS" >&2; exit 2 ;;
    esac
done
[ "${1:-}" = "--" ] && shift
command -v valgrind >/dev/null || { echo "callgrind: valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }

work=$(mktemp -d)
server=
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "callgrind: building with DWARF 4 debug information into .build-callgrind" >&2
swift build -c release --scratch-path .build-callgrind -Xswiftc -g -Xswiftc -dwarf-version=4 -Xcc -gdwarf-4 >&2
bin=.build-callgrind/release

cat >"$work/shim.c" <<'C'
#define _GNU_SOURCE
#include <signal.h>
#include <unistd.h>
#include <sys/syscall.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
C
cc -O2 -shared -fPIC -o "$work/shim.so" "$work/shim.c"

port=$(free_port)
LD_PRELOAD="$work/shim.so" valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$bin/actor-chat-server" --host 127.0.0.1 --port "$port" "${load_limits[@]}" --memory </dev/null >"$work/log" 2>&1 &
server=$!
until grep -q listening "$work/log"; do
    kill -0 "$server" 2>/dev/null || { cat "$work/log" >&2; exit 1; }
    sleep 0.2
done
"$bin/actor-chat-cli" loadtest --host 127.0.0.1 --port "$port" --server-pid "$server" "$@" >&2
kill -INT "$server"
wait "$server" || true
server=
grep "refs" "$work/log" >&2

# Calls come from the caller tree: the (Nx) counts above each function's own line. An async
# function's inclusive count takes in what ran after it resumed (AsyncStream's next: the session).
callgrind_annotate --tree=caller --inclusive=yes "$out" | python3 -c '
import re, sys
totals, pending = {}, 0
for line in sys.stdin:
    caller = re.match(r"\s*[\d,]+ \([^)]*\)\s+<\s.*\((\d[\d,]*)x\)", line)
    if caller:
        pending += int(caller.group(1).replace(",", ""))
        continue
    own = re.match(r"\s*([\d,]+) \([^)]*\)\s+\*\s+(\S+)", line)
    if own:
        name = own.group(2).split(":", 1)[-1]
        calls, cost = totals.get(name, (0, 0))
        totals[name] = (calls + pending, max(cost, int(own.group(1).replace(",", ""))))
    pending = 0
wanted = re.compile(r"ActorChat|ScS8_Storage|swift_task_switch$")
rows = sorted(((cost, calls, name) for name, (calls, cost) in totals.items() if calls and wanted.search(name)), reverse=True)
print("  instructions     calls  per call  function (inclusive)")
for cost, calls, name in rows[:30]:
    print(f"{cost:>14,} {calls:>9,} {cost // calls:>9,}  {name}")
' | swift demangle --simplified | cut -c1-160
echo "callgrind: the whole profile is in $out (callgrind_annotate --inclusive=yes $out)" >&2
