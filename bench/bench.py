"""Measure every flavor side by side; write bench/results.md, bench/results.png and README's table.

Run through bench/run, which provisions Docker, buildx, wrk and this script's
tools first. Every figure comes from this one run on this one machine.
"""

import argparse
import asyncio
import datetime
import gzip
import json
import os
import platform
import re
import runpy
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ports import free_port  # tests/ports.py (bench/run puts tests/ on the path)

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# One image per requirements file, as docker-bake.hcl builds them (images/versions.py).
FLAVORS = tuple(runpy.run_path(str(ROOT / "images" / "versions.py"))["flavors"]())
VIEWS = ("plain", "json")


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=True, **kwargs)


def docker(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return run("docker", *args, **kwargs)


def wait_200(url: str, timeout: float, interval: float = 0.01) -> float:
    """Seconds until url answers 200 (polling), or raise."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - began
        except OSError:
            pass
        time.sleep(interval)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


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


class BareRoot:
    """The image's filesystem unpacked on the host: its venv and Python run with no container around them."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.dir = Path(tempfile.mkdtemp(prefix="django-asgi-bare-"))
        self.dir.chmod(0o755)  # the root of the tree the app user runs in
        created = docker("create", image).stdout.strip()
        try:
            export = subprocess.Popen(["docker", "export", created], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(self.dir)], stdin=export.stdout, check=True)
            export.wait()
        finally:
            docker("rm", created)
        config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
        self.env = dict(item.split("=", 1) for item in config["Env"])
        self.workdir = config["WorkingDir"]
        for mount in (["-t", "proc", "proc", "proc"], ["--rbind", "/dev", "dev"], ["--rbind", "/sys", "sys"]):
            run("mount", *mount[:-1], str(self.dir / mount[-1]))

    @contextmanager
    def serve(self, env: dict[str, str]):
        port = free_port()
        environment = {**self.env, **env, "HOST": "127.0.0.1", "PORT": str(port), "HOME": self.workdir}
        command = [
            "chroot",
            "--userspec=10001:10001",
            str(self.dir),
            "/usr/bin/env",
            "-i",
            *[f"{key}={value}" for key, value in environment.items()],
            "/bin/sh",
            "-c",
            f"cd {self.workdir} && exec django-asgi",
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def remove(self) -> None:
        subprocess.run(["umount", "-R", str(self.dir / "sys")], capture_output=True)
        subprocess.run(["umount", "-R", str(self.dir / "dev")], capture_output=True)
        subprocess.run(["umount", str(self.dir / "proc")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def bare_possible() -> str:
    """Empty when the bare-host runs can happen here, else why not."""
    if platform.system() != "Linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (chroot and mounts)"
    if not shutil.which("chroot"):
        return "needs chroot"
    return ""


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


# --- the run ------------------------------------------------------------------------------------------------


def build_app(flavor: str, image_name: str) -> str:
    tag = f"django-asgi-bench:{flavor}"
    docker(
        "build",
        "-q",
        "--build-arg",
        f"IMAGE={image_name}:{flavor}",
        "-t",
        tag,
        str(BENCH / "app"),
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    return tag


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def measure(flavor: str, args, base: str) -> dict:
    result: dict = {"flavor": flavor}
    image = f"{args.image}:{flavor}"
    app = build_app(flavor, args.image)
    version = json.loads(docker("image", "inspect", "-f", "{{json .Config.Labels}}", image).stdout)
    result["server_version"] = version.get("io.django-asgi.server.version", "")

    log(f"{flavor}: size")
    result["size"] = image_bytes(image)
    result["gzip_whole"], result["gzip_own"] = compressed_sizes(image, base)

    log(f"{flavor}: cold start x{args.cold_starts}")
    starts = []
    for _ in range(args.cold_starts):
        began = time.monotonic()
        with container(app, {}, host_network=False) as (url, _):
            wait_200(url + "/plain", 60)
            starts.append(time.monotonic() - began)
    result["cold_start"] = statistics.median(starts)

    log(f"{flavor}: entrypoint cost")
    result["entrypoint_ms"], result["python_ms"] = entrypoint_cost_ms(image, args.entrypoint_runs)

    bare = None if args.no_bare or bare_possible() else BareRoot(app)
    try:
        for workers in (1, 2):
            env = {"WORKERS": str(workers)}
            with ExitStack() as servers:
                # All three run at once and take turns under load, so drift of the machine's speed
                # during the run falls on each alike; the idle ones cost nothing meanwhile.
                image_url, name = servers.enter_context(container(app, env, host_network=True))
                urls = {"image": image_url}
                urls["published"] = servers.enter_context(container(app, env, host_network=False))[0]
                if bare:
                    urls["bare"] = servers.enter_context(bare.serve(env))[0]
                for url in urls.values():
                    wait_200(url + "/plain", 60)
                result[f"idle_mib_w{workers}"] = container_pss_mib(name)
                for view in VIEWS:
                    modes = [mode for mode in urls if view == "plain" or mode != "published"]
                    log(f"{flavor}: WORKERS={workers} /{view}: {', '.join(modes)}, {args.rounds} rounds")
                    for mode in modes:
                        wrk(f"{urls[mode]}/{view}", 2, args.connections)  # warm up
                    runs = {mode: [] for mode in modes}
                    for _ in range(args.rounds):
                        for mode in modes:
                            runs[mode].append(wrk(f"{urls[mode]}/{view}", args.duration, args.connections))
                    for mode, figures in runs.items():
                        result[f"{mode}_{view}_w{workers}"] = median_run(figures)
                result[f"load_mib_w{workers}"] = container_pss_mib(name)
                if workers == 1:
                    log(f"{flavor}: WebSocket")
                    result["ws_1"] = websocket_rate(image_url, 1, args.ws_duration)
                    result["ws_50"] = websocket_rate(image_url, 50, args.ws_duration)
    finally:
        if bare:
            bare.remove()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--image", default=os.environ.get("IMAGE", "django-asgi"))
    parser.add_argument("--flavors", nargs="+", default=list(FLAVORS), choices=FLAVORS)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per server and view, taken in turns")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--ws-duration", type=float, default=5)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--entrypoint-runs", type=int, default=40)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-host runs")
    parser.add_argument("--output", type=Path, default=BENCH, help="where results.md, results.json, results.png go")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose table to update")
    parser.add_argument("--report-only", action="store_true", help="write the reports again from results.json")
    args = parser.parse_args()

    import report  # bench/report.py: the tables and the chart

    if args.report_only:
        return write(json.loads((args.output / "results.json").read_text()), args)

    python = tomllib.loads((ROOT / "images" / "versions.toml").read_text())["default_python"]
    base = os.environ.get("BASE_IMAGE") or f"python:{python}-slim-trixie"
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": report.machine(),
        "base": base,
        "base_size": image_bytes(base),
        "base_gzip": base_compressed(base),
        "bare": "" if args.no_bare else bare_possible(),
        "settings": {
            "duration": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "ws_duration": args.ws_duration,
            "cold_starts": args.cold_starts,
            "entrypoint_runs": args.entrypoint_runs,
        },
        "flavors": [measure(flavor, args, base) for flavor in args.flavors],
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return write(results, args)


def write(results: dict, args) -> int:
    import report

    (args.output / "results.md").write_text(report.markdown(results))
    report.chart(results, args.output / "results.png")
    report.update_readme(results, args.readme)
    log(f"wrote {args.output / 'results.md'}, results.png and the table in {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
