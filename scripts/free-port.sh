# Sourced by scripts/peers.sh and scripts/compare.sh: prints a loopback port nothing listens on,
# below the ephemeral range (32768 and up) so a client's own ports cannot take it.
free_port() {
    local port
    while :; do
        port=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}
