#!/usr/bin/env bash
# The delivery-promise soak: 1,000 clients in 100 rooms of 10, each sending two messages a second
# for SECONDS (default 30). Fails unless every member got every message of its room once, in seq
# order, with no gaps; prints the server's memory at the start and the end.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/loadtest.sh --scenario rooms --rate 2000 --seconds "${1:-30}" --soak --restart
