"""The WebSocket gateway against an independent client (Python's websockets, pinned in
requirements.txt): chat with a TCP client in one room, fragments, ping, the close codes, and
/metrics through promtool. Usage: websocket_conformance.py SERVER_BINARY"""
import asyncio
import json
import subprocess
import sys
import tempfile
import urllib.request

import websockets
from websockets.exceptions import ConnectionClosed

from server import LineClient, Server, free_port


async def request(ws, event, **params):
    await ws.send(json.dumps({"event": event, "params": params, "id": event}))
    while True:
        frame = json.loads(await ws.recv())
        if frame.get("id") == event:
            return frame


async def expect_close(ws, code):
    try:
        while True:
            await ws.recv()
    except ConnectionClosed as closed:
        assert closed.rcvd is not None and closed.rcvd.code == code, f"closed with {closed.rcvd}, expected {code}"


async def main(binary):
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        server = Server(binary, port, ["--data-dir", data, "--max-line-bytes", "2048"]).start()
        try:
            url = f"ws://127.0.0.1:{port}/ws"
            async with websockets.connect(url) as ws:
                welcome = await request(ws, "login", name="pyws")
                assert welcome["event"] == "welcome", welcome
                assert (await request(ws, "join", room="lobby"))["event"] == "joined"
                tcp = LineClient(port)
                tcp.reply("login", name="pytcp")
                tcp.reply("join", room="lobby")
                # A message in fragments, with the library's own ping between exchanges.
                await ws.send(['{"event":"send","params":{"room":"lobby",', '"text":"from websocket"}}'])
                seen = tcp.until(lambda f: f["event"] == "message")
                assert seen["params"]["text"] == "from websocket" and seen["params"]["from"] == "pyws", seen
                await (await ws.ping(b"x"))
                tcp.send("send", room="lobby", text="from tcp")
                while True:
                    frame = json.loads(await ws.recv())
                    if frame["event"] == "message" and frame["params"]["from"] == "pytcp":
                        assert frame["params"]["text"] == "from tcp", frame
                        break
                # Over the line limit: frame_too_large, then 1009.
                await ws.send(json.dumps({"event": "send", "params": {"room": "lobby", "text": "x" * 3000}}))
                await expect_close(ws, 1009)
            async with websockets.connect(url) as ws:
                await ws.send(b"\x00binary")
                await expect_close(ws, 1003)
            try:
                async with websockets.connect(url, origin="http://elsewhere.example"):
                    raise AssertionError("a foreign origin was let in")
            except websockets.exceptions.InvalidStatus as refused:
                assert refused.response.status_code == 403, refused
            metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
            assert b'actorchat_connections_total{transport="websocket"} 2' in metrics, metrics.decode()
            check = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True)
            assert check.returncode == 0, check.stdout.decode() + check.stderr.decode()
            async with websockets.connect(url) as ws:
                await request(ws, "login", name="leaving")
                server.stop()
                await expect_close(ws, 1001)
        finally:
            server.stop()
    print("websocket conformance: passed (websockets %s, promtool check metrics)" % websockets.version.version)


asyncio.run(main(sys.argv[1]))
