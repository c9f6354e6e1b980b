"""The figures: image sizes, load (wrk), WebSocket round trips, memory, the entrypoint's cost, and a
container to measure."""

import asyncio
import gzip
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from bench.inside import first_200
from bench.tools import docker, log, run
from tests.support.ports import free_port

# --- size -----------------------------------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass


def gzipped_size(stream) -> int:
    counter = _Counter()
    with gzip.GzipFile(fileobj=counter, mode="wb", compresslevel=6) as zipped:
        shutil.copyfileobj(stream, zipped, 1 << 20)
    return counter.size


def image_bytes(image: str) -> int:
    return int(docker("image", "inspect", "-f", "{{.Size}}", image).stdout)


def compressed_sizes(image: str, base: str) -> tuple[int, int]:
    """gzip of `docker save` of the whole image, and of the layers the image adds to its base."""
    base_layers = len(json.loads(docker("image", "inspect", "-f", "{{json .RootFS.Layers}}", base).stdout))
    with tempfile.TemporaryDirectory() as scratch:
        saved = Path(scratch) / "image.tar"
        with saved.open("wb") as out:
            subprocess.run(["docker", "save", image], stdout=out, check=True)
        with saved.open("rb") as stream:
            whole = gzipped_size(stream)
        with tarfile.open(saved) as archive:
            manifest = json.load(archive.extractfile("manifest.json"))
            own = 0
            for layer in manifest[0]["Layers"][base_layers:]:
                own += gzipped_size(archive.extractfile(layer))
    return whole, own


def base_compressed(base: str) -> int:
    process = subprocess.Popen(["docker", "save", base], stdout=subprocess.PIPE)
    size = gzipped_size(process.stdout)
    process.wait()
    return size


# --- containers ---------------------------------------------------------------------------------------------


class Running:
    """A contender's container on the host's network; its URLs on 127.0.0.1."""

    def __init__(self, name: str, ports: list[int], began: float) -> None:
        self.name = name
        self.ports = ports
        self.began = began  # time.monotonic() before `docker run`
        self.url = f"http://127.0.0.1:{ports[0]}"

    def state(self) -> tuple[bool, int]:
        running, code = docker("inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", self.name).stdout.split()
        return running == "true", int(code)

    def processes(self) -> dict[int, tuple[int, str]]:
        """The container's processes, read from the host's /proc: pid -> (parent pid, command line)."""
        init = int(docker("inspect", "-f", "{{.State.Pid}}", self.name).stdout)
        if not init:
            return {}  # it exited
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                except OSError:
                    continue
                table[int(entry)] = (int(stat.rsplit(")", 1)[1].split()[1]), command)
        inside, grew = {init}, True
        while grew:
            grew = False
            for pid, (parent, _) in table.items():
                if parent in inside and pid not in inside:
                    inside.add(pid)
                    grew = True
        return {pid: table[pid] for pid in inside if pid in table}

    @staticmethod
    def container_pid(pid: int) -> int | None:
        """A process's id as the container sees it (the last of its NSpid), from its host pid."""
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
        except OSError:
            pass
        return None

    def workers(self) -> list[int]:
        """The serving processes with no children (not multiprocessing's resource tracker); the
        container's first process when it serves alone."""
        processes = self.processes()
        parents = {parent for parent, _ in processes.values()}
        return sorted(
            pid for pid, (_, command) in processes.items() if pid not in parents and "resource_tracker" not in command
        )


@contextmanager
def running(contender, workers: int, copies: bool = False):
    """The contender started detached on the host's network (`copies`: every plain daphne)."""
    ports = [free_port() for _ in range(contender.ports_for(workers) if copies else 1)]
    name = f"django-asgi-bench-{os.getpid()}-{time.monotonic_ns()}"
    began = time.monotonic()
    docker("run", "-d", "--name", name, "--network", "host", *contender.run_args(ports, workers))
    try:
        yield Running(name, ports, began)
    except Exception:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        log(f"{contender.label} ({contender.image}) logs:\n{logs.stdout}{logs.stderr}")
        raise
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)


# --- start --------------------------------------------------------------------------------------------------


def cold_start(contender, workers: int) -> dict:
    """`docker run` to the first 200 (on every port of plain daphnes)."""
    with running(contender, workers, copies=True) as server:
        return {"run": max(first_200(port) for port in server.ports) - server.began}


def restart(name: str, ports: list[int], path: bytes = b"/") -> dict:
    """`docker start` of the stopped container to the first 200 (on every port), as Fly.io starts
    a machine it stopped when idle; then stopped again."""
    began = time.monotonic()
    docker("start", name)
    figures = {"run": max(first_200(port, path=path) for port in ports) - began}
    docker("stop", "-t", "5", name)
    return figures


def starts_inside(entrants: list, workers: int, rounds: int) -> dict[str, list[float]]:
    """Each entrant's start to its first 200, from inside one running container of the first's image
    (bench/inside.py), in turns: the same starts without Docker's own, variable, work."""
    image = entrants[0].image
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    base_env = dict(item.split("=", 1) for item in config["Env"])
    commands = []
    for entrant in entrants:
        ports = [free_port() for _ in range(entrant.ports_for(workers))]
        env = {**base_env, **entrant.environment(ports, workers)}
        if entrant.command is None:
            argv = [*config["Entrypoint"], *(config.get("Cmd") or [])]
            env.update(HOST="127.0.0.1", PORT=str(ports[0]), WORKERS=str(workers))
        else:
            argv = entrant.argv(ports, workers)
            if entrant.user:
                uid, gid = entrant.user.split(":")
                argv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *argv]
        commands.append({"name": entrant.key, "argv": argv, "env": env, "ports": ports})
    name = f"django-asgi-bench-inside-{os.getpid()}"
    docker("run", "-d", "--name", name, "--network", "host", "--entrypoint", "sleep", image, "infinity")
    try:
        docker("cp", str(Path(__file__).with_name("inside.py")), f"{name}:/tmp/inside.py")
        out = docker("exec", "-w", config.get("WorkingDir") or "/", name, "python", "/tmp/inside.py", str(rounds),
                     json.dumps(commands), timeout=rounds * len(commands) * 30 + 60).stdout  # fmt: skip
        return json.loads(out)
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


# --- load ---------------------------------------------------------------------------------------------------

WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(url: str, duration: int, connections: int) -> dict:
    """requests/s and p50/p99 latency (ms) from wrk over `duration` seconds."""
    out = run(
        "wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{duration}s", url, timeout=duration + 60
    ).stdout
    rps = float(re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M).group(1))
    latency = {f"p{p}": float(v) * UNITS[u] for p, v, u in WRK_LATENCY.findall(out)}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    failed = (sum(map(int, errors.groups())) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)
    return {"rps": rps, **latency, "errors": failed}


async def _websocket_round_trips(url: str, connections: int, duration: float) -> float:
    import websockets

    deadline = time.monotonic() + duration
    counts = [0] * connections

    async def client(index: int) -> None:
        async with websockets.connect(url, open_timeout=10, compression=None) as ws:
            while time.monotonic() < deadline:
                await ws.send("ping")
                await ws.recv()
                counts[index] += 1

    await asyncio.gather(*(client(i) for i in range(connections)))
    return sum(counts) / duration


def websocket_rate(url: str, connections: int, duration: float) -> float:
    return asyncio.run(_websocket_round_trips(url.replace("http", "ws") + "/ws", connections, duration))


def pss_mib(server: Running) -> float:
    """Proportional set size of every process in the container (shared pages split between them),
    read from the host: a server process that switched users is not dumpable, and only a root
    with ptrace's capability, which containers lack, may read its memory maps."""
    total = 0
    for pid in server.processes():
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total / 1024
