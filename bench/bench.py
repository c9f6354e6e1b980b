"""Measure every flavor against what a user would deploy instead; write bench/results.md,
bench/results.png and README's table.

Run through bench/run, which provisions Docker, buildx, wrk and this script's tools first. Every
figure comes from this one run on this one machine. This file is the run; contenders.py says what
runs against each flavor, measure.py takes the figures, behaviour.py the behaviour tables,
report.py writes the reports.
"""

import argparse
import dataclasses
import datetime
import json
import os
import runpy
import subprocess
import sys
import time
import tomllib
from contextlib import ExitStack
from pathlib import Path

from bench import behaviour, contenders
from bench.inside import interleaved
from bench.measure import (
    base_compressed,
    cold_start,
    compressed_sizes,
    first_200,
    image_bytes,
    pss_mib,
    restart,
    running,
    starts_inside,
    websocket_rate,
    wrk,
)
from bench.tools import build_secret, docker, log
from tests.support.build_ca import to_build_from
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# One image per requirements file, as docker-bake.hcl builds them (images/versions.py).
FLAVORS = tuple(runpy.run_path(str(ROOT / "images" / "versions.py"))["flavors"]())
VIEWS = ("plain", "json")
HELLO = ROOT / "examples" / "hello_django"


def build(context: Path, tag: str, image: str) -> str:
    """A project built FROM the flavor's image, as a user's Dockerfile would."""
    docker("build", "-q", *build_secret(), "--build-arg", f"IMAGE={image}", "-t", tag, str(context),
           env={**os.environ, "DOCKER_BUILDKIT": "1"}, timeout=900)  # fmt: skip
    return tag


def measure_flavor(flavor: str, args, base: str, alternatives: dict) -> dict:
    image = f"{args.image}:{flavor}"
    app = build(BENCH / "app", f"django-asgi-bench:{flavor}", image)
    entrants = contenders.for_flavor(flavor, app, alternatives)
    labels = json.loads(docker("image", "inspect", "-f", "{{json .Config.Labels}}", image).stdout)
    result: dict = {
        "flavor": flavor,
        "server_version": labels.get("io.django-asgi.server.version", ""),
        "contenders": [{"key": c.key, "label": c.label, "image": c.image, "command": describe(c)} for c in entrants],
    }

    log(f"{flavor}: size")
    result["size"] = {c.key: image_bytes(c.image) for c in entrants}
    result["gzip_whole"], result["gzip_own"] = compressed_sizes(image, base)

    for workers in (1, 2):
        log(f"{flavor}: cold start, WORKERS={workers}, {args.cold_starts} rounds")
        # The alternatives start as their files write them, with two workers: at WORKERS=2 only.
        racing = [c for c in entrants if c.key in ("image", "control", "plain") or workers == 2]
        result[f"cold_w{workers}"] = interleaved(args.cold_starts, racing, lambda c, w=workers: cold_start(c, w))
        log(f"{flavor}: starts inside a container, WORKERS={workers}, {args.inside_starts} rounds")
        inside = starts_inside([c for c in entrants if c.key in ("image", "plain", "control")], workers,
                               args.inside_starts)  # fmt: skip
        result[f"inside_w{workers}"] = {key: [{"run": value} for value in values] for key, values in inside.items()}

    log(f"{flavor}: docker start of a stopped examples/hello_django, {args.cold_starts} rounds")
    result["restart"] = fly_style_start(flavor, image, args.cold_starts)

    for workers in (1, 2):
        load(result, entrants, workers, args)

    log(f"{flavor}: behaviour")
    result["behaviour"] = {
        c.key: {
            "sigterm": behaviour.request_in_flight(c, "TERM"),
            "sigint": behaviour.request_in_flight(c, "INT"),
            "kill": behaviour.worker_killed(c),
            "websocket": behaviour.websocket_on_stop(c),
        }
        for c in entrants
        if c.key != "control"
    }
    return result


def describe(contender) -> str:
    """The command a contender runs, for the report."""
    if contender.command is None:
        return "the image's entrypoint, `WORKERS`, `HOST`, `PORT`"
    filled = [part.format(host="HOST", port="PORT", workers="WORKERS", app=contenders.APP_MODULE) for part in
              contender.command]  # fmt: skip
    words = f"`{' '.join(filled)}`"
    if contender.copies:
        words += " (WORKERS of them, one per port, for the starts)"
    return words


def fly_style_start(flavor: str, image: str, rounds: int) -> dict:
    """`docker start` of a stopped examples/hello_django container to its first 200, the image
    against its plain command, as Fly.io starts a machine it stopped when idle."""
    hello = build(HELLO, f"django-asgi-bench-hello:{flavor}", to_build_from(image))
    app = "hello_django.asgi:application"
    entrants = [
        contenders.Contender("image", "this image", hello),
        contenders.Contender("control", "this image again", hello),
        dataclasses.replace(contenders.plain(hello, flavor), app=app),
    ]
    volume = f"django-asgi-bench-data-{os.getpid()}"
    names, ports = {}, {}
    try:
        for entrant in entrants:
            ports[entrant.key] = [free_port() for _ in range(entrant.ports_for(2))]
            names[entrant.key] = f"django-asgi-bench-{entrant.key}-{os.getpid()}"
            docker("create", "--name", names[entrant.key], "--network", "host", "-v", f"{volume}:/data",
                   "-e", "DJANGO_ALLOWED_HOSTS=localhost", *entrant.run_args(ports[entrant.key], 2))  # fmt: skip
        return interleaved(rounds, entrants, lambda e: restart(names[e.key], ports[e.key]))
    finally:
        for name in names.values():
            subprocess.run(["docker", "rm", "-f", name], capture_output=True)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True)


def load(result: dict, entrants: list, workers: int, args) -> None:
    """Throughput and latency of both views, every contender running at once and taking turns;
    memory idle and after; WebSocket echoes of the image."""
    with ExitStack() as stack:
        up = {c.key: stack.enter_context(running(c, workers)) for c in entrants}
        for server in up.values():
            first_200(server.ports[0])
        result[f"idle_mib_w{workers}"] = {key: pss_mib(server) for key, server in up.items()}
        for view in VIEWS:
            log(f"{result['flavor']}: WORKERS={workers} /{view}: {', '.join(up)}, {args.rounds} rounds")
            for server in up.values():
                wrk(f"{server.url}/{view}", 2, args.connections)  # warm up

            def measure(contender, view=view):
                return wrk(f"{up[contender.key].url}/{view}", args.duration, args.connections)

            runs = interleaved(args.rounds, entrants, measure)
            result[f"{view}_w{workers}"] = runs
        result[f"load_mib_w{workers}"] = {key: pss_mib(server) for key, server in up.items()}
        if workers == 1:
            log(f"{result['flavor']}: WebSocket")
            result["ws_1"] = websocket_rate(up["image"].url, 1, args.ws_duration)
            result["ws_50"] = websocket_rate(up["image"].url, 50, args.ws_duration)


def fly_daphne_as_written(alternatives: dict) -> dict:
    """What fly launch's daphne command does as written (`<project>.asgi`, no attribute)."""
    tag = alternatives.get(("fly", "daphne"))
    if not tag:
        return {}
    port = free_port()
    command = [part.format(port=port) for part in contenders.FLY_DAPHNE_AS_WRITTEN]
    began = time.monotonic()
    done = subprocess.run(["docker", "run", "--rm", "--network", "host", tag, *command], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    lines = done.stderr.strip().splitlines()
    return {"status": done.returncode, "last_line": lines[-1] if lines else "", "seconds": time.monotonic() - began}


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--image", default=os.environ.get("IMAGE", "django-asgi"))
    parser.add_argument("--flavors", nargs="+", default=list(FLAVORS), choices=FLAVORS)
    parser.add_argument("--duration", type=int, default=2, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=20, help="wrk runs per contender and view, taken in turns")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--ws-duration", type=float, default=5)
    parser.add_argument("--cold-starts", type=int, default=41, help="interleaved rounds of docker run and docker start")
    parser.add_argument("--inside-starts", type=int, default=61, help="interleaved rounds of starts inside a container")
    parser.add_argument("--output", type=Path, default=BENCH, help="where results.md, results.json, results.png go")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose table to update")
    parser.add_argument("--report-only", action="store_true", help="write the reports again from results.json")
    args = parser.parse_args()

    from bench import report  # the tables and the chart (matplotlib only where it is drawn)

    if args.report_only:
        return write(json.loads((args.output / "results.json").read_text()), args)

    python = tomllib.loads((ROOT / "images" / "versions.toml").read_text())["default_python"]
    base = os.environ.get("BASE_IMAGE") or f"python:{python}-slim-trixie"
    alternatives = {}
    for alternative in contenders.ALTERNATIVES:
        if alternative.flavor in args.flavors:
            log(f"building {alternative.label} ({alternative.flavor})")
            alternatives[alternative.key, alternative.flavor] = contenders.build(alternative, contenders.with_pip(base))
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": report.machine(),
        "base": base,
        "base_size": image_bytes(base),
        "base_gzip": base_compressed(base),
        "settings": {
            "duration": args.duration,
            "rounds": args.rounds,
            "connections": args.connections,
            "ws_duration": args.ws_duration,
            "cold_starts": args.cold_starts,
            "inside_starts": args.inside_starts,
        },
        "alternatives": [
            {"key": a.key, "label": a.label, "flavor": a.flavor, "source": a.source}
            for a in contenders.ALTERNATIVES
            if a.flavor in args.flavors
        ],
        "fly_daphne_as_written": fly_daphne_as_written(alternatives),
        "flavors": [measure_flavor(flavor, args, base, alternatives) for flavor in args.flavors],
    }
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return write(results, args)


def write(results: dict, args) -> int:
    from bench import report

    (args.output / "results.md").write_text(report.markdown(results))
    report.chart(results, args.output / "results.png")
    report.update_readme(results, args.readme)
    log(f"wrote {args.output / 'results.md'}, results.png and the table in {args.readme}")
    missed = report.bounds_missed(results)
    for line in missed:
        log(f"missed: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
