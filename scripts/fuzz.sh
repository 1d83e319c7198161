#!/usr/bin/env bash
# Fuzzes the protocol layer (framer, envelope, JSON, names) and the HTTP request parser with
# libFuzzer, N seconds in all (default 60: two thirds protocol, one third HTTP).
# `swift build` cannot link fuzzers, so the target is compiled with swiftc directly.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=.build-fuzz
mkdir -p "$out" "$out/corpus"
cp -n Fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name ProtocolFuzzer -package-name ActorChat \
    Fuzz/ProtocolFuzzer.swift Sources/ActorChatProtocol/*.swift -o "$out/protocol-fuzzer"
SWIFT_BACKTRACE=enable=no "$out/protocol-fuzzer" -max_total_time="$((seconds * 2 / 3))" -max_len=4096 \
    -print_final_stats=1 "$out/corpus" Fuzz/corpus 2>&1 | tail -20
mkdir -p "$out/http-corpus"
cp -n Fuzz/http-corpus/* "$out/http-corpus/" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name HTTPFuzzer -package-name ActorChat \
    Fuzz/HTTPFuzzer.swift Sources/ActorChatWeb/HTTP/*.swift -o "$out/http-fuzzer"
SWIFT_BACKTRACE=enable=no "$out/http-fuzzer" -max_total_time="$((seconds - seconds * 2 / 3))" -max_len=1024 \
    -print_final_stats=1 "$out/http-corpus" Fuzz/http-corpus 2>&1 | tail -20
