#!/usr/bin/env python3
"""A second opinion on `history` latency under load: one thread, one blocking socket, a 50-message
`history` and then a `ping` every 10 ms, so each reply costs the client one wake-up, as
redis-benchmark's does. The load test's own probe runs on the CLI's event loop and tasks, which
wake two threads per reply; under a saturated CPU that adds its own tail.

    scripts/history-probe.py PORT ADMIN_TOKEN SECONDS

It waits for the load test's rooms to appear, probes the first for SECONDS, and prints p50, p99
and max of both requests.
"""
import json
import socket
import sys
import time

port, token, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
connection = socket.create_connection(("127.0.0.1", port))
connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lines = connection.makefile("rb")
next_id = 0


def request(event, params=None):
    """Sends one request and returns its reply, skipping whatever else arrives meanwhile."""
    global next_id
    next_id += 1
    mark = b'"id":%d}' % next_id
    body = {"event": event, "id": next_id}
    if params:
        body["params"] = params
    connection.sendall(json.dumps(body, separators=(",", ":")).encode() + b"\n")
    while True:
        reply = lines.readline()
        if not reply:
            sys.exit("history-probe: the server closed the connection")
        if reply.rstrip().endswith(mark):
            return reply


request("login", {"name": "history-probe", "token": token})
deadline = time.monotonic() + 60
while True:
    rooms = json.loads(request("rooms"))["params"]["rooms"]
    names = sorted(room["name"] for room in rooms if room["name"] != "lobby")
    if names:
        break
    if time.monotonic() > deadline:
        sys.exit("history-probe: no room appeared")
    time.sleep(0.1)
# The rooms appear as the load test sets its clients up; its step starts about a second later.
time.sleep(1)
histories, pings = [], []
end = time.monotonic() + seconds
while time.monotonic() < end:
    started = time.perf_counter()
    request("history", {"room": names[0], "limit": 50})
    histories.append(time.perf_counter() - started)
    started = time.perf_counter()
    request("ping")
    pings.append(time.perf_counter() - started)
    time.sleep(0.01)


def milliseconds(samples, quantile):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))] * 1000


print("history-probe (blocking): %d requests; history p50 %.2f p99 %.2f max %.2f ms; ping p50 %.2f p99 %.2f ms" % (
    len(histories), milliseconds(histories, 0.5), milliseconds(histories, 0.99), max(histories) * 1000,
    milliseconds(pings, 0.5), milliseconds(pings, 0.99)))
