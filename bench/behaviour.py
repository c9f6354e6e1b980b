"""What each contender does when it is stopped or loses a worker: the behaviour tables."""

import os
import signal
import socket
import time

from bench.measure import first_200, running
from bench.tools import docker

SIGNALLED_WITHIN = 15.0  # seconds; Docker would have killed it after 10


def _exit(server, signalled: float) -> str:
    """How the container ended after the signal: its status and when, or that it still runs."""
    while time.monotonic() - signalled < SIGNALLED_WITHIN:
        alive, code = server.state()
        if not alive:
            return f"exit {code} after {time.monotonic() - signalled:.1f} s"
        time.sleep(0.02)
    return f"still running after {SIGNALLED_WITHIN:.0f} s"


def request_in_flight(contender, signal_name: str) -> dict:
    """A 3 s request, seen started by the client, when the container gets `signal_name`: answered in
    full or cut, and how the container ended."""
    with running(contender, 2) as server:
        first_200(server.ports[0])
        with socket.create_connection(("127.0.0.1", server.ports[0]), timeout=SIGNALLED_WITHIN) as client:
            client.sendall(b"GET /slow?seconds=3 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            received = b""
            while b"started" not in received:
                chunk = client.recv(4096)
                if not chunk:
                    break
                received += chunk
            docker("kill", "-s", signal_name, server.name)
            signalled = time.monotonic()
            try:
                while chunk := client.recv(4096):
                    received += chunk
            except OSError:
                pass
        answered = b"done" in received
        return {"request": "answered" if answered else "cut", "exit": _exit(server, signalled)}


def worker_killed(contender) -> dict:
    """`kill -9` of one of two workers: does the container go on serving, and when does a new
    worker answer (the bench app's /pid names the process that served)?"""
    with running(contender, 2) as server:
        first_200(server.ports[0])
        workers = server.workers()
        known = {server.container_pid(pid) for pid in workers}
        victim = workers[-1]  # a server serving alone is its own worker: then the server goes
        os.kill(victim, signal.SIGKILL)  # from the host, which sees the container's processes
        killed = time.monotonic()
        answered = asked = 0
        replaced = None
        while time.monotonic() - killed < 10 and (replaced is None or asked < 10):
            alive, code = server.state()
            if not alive:
                return {"after": f"the container exited ({code})", "answered": f"{answered}/{asked}"}
            asked += 1
            pid = _served_by(server.ports[0])
            answered += pid is not None
            if replaced is None and pid is not None and pid not in known:
                replaced = time.monotonic() - killed
            time.sleep(0.02)
        if answered == 0:
            after = "stopped serving"
        elif replaced is not None:
            after = f"kept serving, a new worker answered after {replaced:.1f} s"
        else:
            after = "kept serving, on the worker left"
        return {"after": after, "answered": f"{answered}/{asked}"}


def _served_by(port: int) -> int | None:
    """The container pid of the process that answered /pid with a 200, or None."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
            # HTTP/1.0: the body is not chunked, the connection closes after it
            client.sendall(b"GET /pid HTTP/1.0\r\nHost: localhost\r\n\r\n")
            response = b""
            while chunk := client.recv(4096):
                response += chunk
    except OSError:
        return None
    head, _, body = response.partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1:2]
    return int(body) if status == [b"200"] and body.strip().isdigit() else None


def websocket_on_stop(contender) -> dict:
    """An open WebSocket when the container gets SIGTERM: the close code the client gets and when,
    and how the container ended."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with running(contender, 2) as server:
        first_200(server.ports[0])
        with connect(f"ws://127.0.0.1:{server.ports[0]}/ws", open_timeout=10, compression=None) as ws:
            ws.send("ping")
            ws.recv(timeout=10)
            docker("kill", "-s", "TERM", server.name)
            signalled = time.monotonic()
            try:
                while True:
                    ws.recv(timeout=SIGNALLED_WITHIN)
            except TimeoutError:
                closed = f"still open after {SIGNALLED_WITHIN:.0f} s"
            except ConnectionClosed as error:
                code = error.rcvd.code if error.rcvd else None
                took = time.monotonic() - signalled
                closed = f"closed {code} after {took:.1f} s" if code else f"dropped without a close after {took:.1f} s"
        return {"websocket": closed, "exit": _exit(server, signalled)}
