# Sourced by scripts/loadtest.sh and scripts/peers.sh: the server flags a load test runs with. A load
# test is one heavy client per address, so per-client rate and per-IP limits would measure themselves.
load_limits=(--rate-limit 1000000000 --rate-burst 1000000000 --max-connections-per-ip 1000000
             --max-rooms 100000 --max-room-limit 1000000 --idle-ping-seconds 3600 --log-level warn)
