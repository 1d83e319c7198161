#!/usr/bin/env bash
# Fuzzes the protocol layer (framer, envelope, JSON, names) with libFuzzer for N seconds (default 60).
# `swift build` cannot link fuzzers, so the target is compiled with swiftc directly.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=.build-fuzz
mkdir -p "$out" "$out/corpus"
cp -n Fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ProtocolFuzzer -package-name ActorChat \
    Fuzz/ProtocolFuzzer.swift Sources/ActorChatProtocol/*.swift -o "$out/protocol-fuzzer"
SWIFT_BACKTRACE=enable=no "$out/protocol-fuzzer" -max_total_time="$seconds" -max_len=4096 \
    -print_final_stats=1 "$out/corpus" Fuzz/corpus 2>&1 | tail -20
