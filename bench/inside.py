"""Run inside one container (stdlib only): start each command in turn, time it to its first 200, kill it.

`python inside.py ROUNDS JSON`: JSON is a list of {"name", "argv", "env", "ports"}; prints
{"name": [seconds, ...]} after one dropped round. Starting commands from inside a running container
leaves Docker's own work (namespaces, mounts, network) out of the figures: what remains is the
commands' own start.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

REQUEST = b"GET /plain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def first_200(
    port: int, process: subprocess.Popen | None = None, timeout: float = 60, path: bytes = b"/plain"
) -> float:
    """time.monotonic() of the first 200 from the port, asking every half millisecond (bench/measure.py's
    too: this file is all a container gets)."""
    request = REQUEST.replace(b"/plain", path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before answering")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                connection.sendall(request)
                if connection.recv(16).startswith(b"HTTP/1.1 200"):
                    return time.monotonic()
        except OSError:
            pass
        time.sleep(0.0005)
    raise RuntimeError(f"port {port}: no 200 within {timeout} s")


def start(command: dict) -> float:
    began = time.monotonic()
    process = subprocess.Popen(command["argv"], env=command["env"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        return max(first_200(port, process) for port in command["ports"]) - began
    finally:
        # Everything but this and the container's first process (whatever became of its children).
        for pid in filter(str.isdigit, os.listdir("/proc")):
            if int(pid) not in (1, os.getpid()):
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
        process.wait()
        # The ports free again before the next one binds them.
        for port in command["ports"]:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                except OSError:
                    break
                time.sleep(0.001)


def interleaved(rounds: int, entrants: list, measure, key=lambda entrant: entrant.key) -> dict[str, list]:
    """measure(entrant) for every entrant in turns, the order rotating each round, after one round
    of warm-up that is dropped: drift of the machine falls on each alike. (bench/bench.py's too.)"""
    figures: dict[str, list] = {key(entrant): [] for entrant in entrants}
    for index in range(rounds + 1):
        shift = index % len(entrants)
        for entrant in entrants[shift:] + entrants[:shift]:
            value = measure(entrant)
            if index:
                figures[key(entrant)].append(value)
    return figures


def _start_or_exit(command: dict) -> float:
    try:
        return start(command)
    except RuntimeError as error:
        raise SystemExit(f"{command['name']}: {error}") from None


def main() -> None:
    rounds, commands = int(sys.argv[1]), json.loads(sys.argv[2])
    print(json.dumps(interleaved(rounds, commands, _start_or_exit, key=lambda command: command["name"])))


if __name__ == "__main__":
    main()
