#!/usr/bin/env bash
# What storing a message costs SQLite itself here, with the (room, seq) index kept at each commit
# (eager, the store's schema before 6), in bulk (lazy, schema 6) or not at all (none): the floor
# under the store's writer, measured outside the server (scripts/store-floor.c). Each run writes
# MESSAGES (default 300,000) 100-byte messages over 100 rooms into a fresh file in a temporary
# directory, in transactions of 10, 30 and 100. Needs libsqlite3-dev (scripts/setup.sh installs it).
#   scripts/store-floor.sh [MESSAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-300000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -Wall -o "$work/store-floor" scripts/store-floor.c -lsqlite3
for batch in 10 30 100; do
    for index in eager lazy none; do
        "$work/store-floor" "$work/floor.sqlite3" "$messages" "$batch" 100 "$index"
        rm -f "$work"/floor.sqlite3*
    done
done
