"""Measure every flavor side by side; write bench/results.md, bench/results.png and README's table.

Run through bench/run, which provisions Docker, buildx, wrk and this script's
tools first. Every figure comes from this one run on this one machine. This file
is the run; measure.py takes the figures, bare.py runs an image's filesystem on
the bare host, report.py writes the reports.
"""

import argparse
import datetime
import json
import os
import runpy
import statistics
import sys
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path

from bare import BareRoot, bare_possible
from measure import (
    base_compressed,
    compressed_sizes,
    container,
    container_pss_mib,
    entrypoint_cost_ms,
    image_bytes,
    median_run,
    websocket_rate,
    wrk,
)
from tools import docker, log, wait_200

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# One image per requirements file, as docker-bake.hcl builds them (images/versions.py).
FLAVORS = tuple(runpy.run_path(str(ROOT / "images" / "versions.py"))["flavors"]())
VIEWS = ("plain", "json")


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


def measure_flavor(flavor: str, args, base: str) -> dict:
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
        "flavors": [measure_flavor(flavor, args, base) for flavor in args.flavors],
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
