#!/usr/bin/env bash
# Copies the release binaries, actor-chat-server and actor-chat-cli, into ~/.local/bin (or DIR, the
# first argument), building them first if they are missing, and says how to put that directory on
# PATH when it is not there yet. Run it again after a rebuild: the copies do not follow the build.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$HOME/.local/bin}
[ -x .build/release/actor-chat-server ] && [ -x .build/release/actor-chat-cli ] || swift build -c release
mkdir -p "$dir"
install -m 755 .build/release/actor-chat-server .build/release/actor-chat-cli "$dir/"
echo "install: copied actor-chat-server and actor-chat-cli to $dir"
case ":$PATH:" in
    *":$dir:"*) ;;
    *) echo "install: $dir is not on your PATH; add it with: export PATH=\"$dir:\$PATH\"" ;;
esac
