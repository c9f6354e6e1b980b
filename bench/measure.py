"""The figures: image sizes, load (wrk), WebSocket round trips, memory, the entrypoint's cost, and a
container to measure."""

import asyncio
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ports import free_port  # tests/ports.py (bench/run puts tests/ on the path)
from tools import docker, log, run

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


# --- containers and the bare host --------------------------------------------------------------------------


@contextmanager
def container(image: str, env: dict[str, str], host_network: bool):
    """The image running detached; yields its base URL on 127.0.0.1."""
    name = f"django-asgi-bench-{os.getpid()}-{time.monotonic_ns()}"
    env_args = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    if host_network:
        port = free_port()
        network = ["--network", "host", "-e", "HOST=127.0.0.1", "-e", f"PORT={port}"]
    else:
        network = ["-p", "127.0.0.1::8000"]
    docker("run", "-d", "--name", name, *network, *env_args, image)
    try:
        if not host_network:
            port = int(docker("port", name, "8000/tcp").stdout.split()[0].rsplit(":", 1)[1])
        yield f"http://127.0.0.1:{port}", name
    except Exception:
        logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True)
        log(f"{image} ({' '.join(network)}) logs:\n{logs.stdout}{logs.stderr}")
        raise
    finally:
        subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True)


# --- load ---------------------------------------------------------------------------------------------------

WRK_LATENCY = re.compile(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", re.M)
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def median_run(runs: list[dict]) -> dict:
    """Each figure's median over the rounds; errors summed."""
    return {
        "rps": statistics.median(r["rps"] for r in runs),
        "p50": statistics.median(r["p50"] for r in runs),
        "p99": statistics.median(r["p99"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "rounds": [r["rps"] for r in runs],
    }


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


def container_pss_mib(name: str) -> float:
    """Proportional set size of every process in the container: what it really takes, shared pages split."""
    script = (
        "import os\nt = 0\nfor p in filter(str.isdigit, os.listdir('/proc')):\n"
        "    if int(p) == os.getpid():\n        continue  # this probe\n"
        "    try:\n        s = open(f'/proc/{p}/smaps_rollup').read()\n    except OSError:\n        continue\n"
        "    t += sum(int(l.split()[1]) for l in s.splitlines() if l.startswith('Pss:'))\nprint(t)\n"
    )
    total = int(docker("exec", name, "python", "-c", script).stdout)
    return total / 1024


def entrypoint_cost_ms(image: str, runs: int) -> tuple[float, float]:
    """Median wall time of `django-asgi --dry-run` and of `python -c pass`, alternating, inside the image."""
    script = (
        "import subprocess, sys, time, statistics\n"
        f"runs = {runs}\n"
        "a, b = [], []\n"
        "for _ in range(runs):\n"
        "    t = time.perf_counter(); subprocess.run(['django-asgi', '--dry-run'], stdout=subprocess.DEVNULL)\n"
        "    a.append(time.perf_counter() - t)\n"
        "    t = time.perf_counter(); subprocess.run([sys.executable, '-c', 'pass'])\n"
        "    b.append(time.perf_counter() - t)\n"
        "print(statistics.median(a) * 1000, statistics.median(b) * 1000)\n"
    )
    out = docker("run", "--rm", "--entrypoint", "python", image, "-c", script).stdout.split()
    return float(out[0]), float(out[1])
