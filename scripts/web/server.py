"""Starts and stops actor-chat-server for the web scripts, and speaks the JSON-lines protocol."""
import json
import os
import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self, binary, port, args):
        self.binary, self.port, self.args = binary, port, args
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port)] + self.args,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the server exited at start")
                time.sleep(0.05)  # allowed-sleep: polling for the listening port, with a deadline
        raise RuntimeError("the server did not start listening within 20 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=20)


class LineClient:
    """A TCP client of the JSON-lines protocol: the terminal's door, beside the browser's."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buffer = b""
        self.next_id = 1

    def send(self, event, **params):
        self.sock.sendall(json.dumps({"event": event, "params": params, "id": self.next_id}).encode() + b"\n")
        self.next_id += 1
        return self.next_id - 1

    def frame(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def reply(self, event, **params):
        """Sends a request and returns its direct reply (the frame with its id)."""
        request_id = self.send(event, **params)
        while True:
            frame = self.frame()
            if frame.get("id") == request_id:
                return frame

    def until(self, predicate):
        while True:
            frame = self.frame()
            if predicate(frame):
                return frame

    def close(self):
        self.sock.close()
