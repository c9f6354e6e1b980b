"""The README's generated tables: the variable reference (django_asgi.contract.VARIABLES), the tag
table and the flavor table (each server's TAG and FLAVOR_TABLE), the exit statuses (EXITS, with the
entrypoint's own codes). tests/unit/test_readme.py checks the README against them, and the container
tests take what they expect from FLAVOR_FACTS and EXITS (tests/support/readme_claims.py); outside the
entrypoint's package, as no image runs it.

    python docs/tables.py          rewrite the README's blocks (with the entrypoint importable)
"""

import re
import runpy
import sys
from pathlib import Path

from django_asgi import contract, servers
from django_asgi.runtime.boot import BOOT_ERROR
from django_asgi.runtime.inflight import CUT

README = Path(__file__).resolve().parent.parent / "README.md"


def variables() -> str:
    rows = ["| Variable | Default | Example | Meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.shown_default} | `{v.example}` | {v.help} |" for v in contract.VARIABLES]
    return "\n".join(rows)


def tags(image: str = "django-asgi") -> str:
    rows = ["| Tag | Server |", "| --- | --- |"]
    rows += [f"| `{image}:{name}` | {servers.load(name).TAG} |" for name in servers.SERVERS]
    return "\n".join(rows)


def flavor_facts() -> dict[str, dict[str, str]]:
    """Each row of the flavor table: its cell for every server, in SERVERS' order."""
    columns = {name: servers.load(name).FLAVOR_TABLE for name in servers.SERVERS}
    first = next(iter(columns.values()))
    for name, column in columns.items():
        if list(column) != list(first):
            raise ValueError(f"servers/{name}: FLAVOR_TABLE rows differ from the others': {list(column)}")
    return {row: {name: column[row] for name, column in columns.items()} for row in first}


def flavors() -> str:
    rows = [f"| | {' | '.join(servers.SERVERS)} |", "| --- |" + " --- |" * len(servers.SERVERS)]
    rows += [f"| {row} | {' | '.join(cells.values())} |" for row, cells in flavor_facts().items()]
    return "\n".join(rows)


def supported() -> str:
    """Each flavor's supported range (its folder's SUPPORTED) beside what the image carries (the locks)."""
    versions = runpy.run_path(str(README.parent / "images" / "versions.py"))  # its pinned(), as the bake file's
    rows = ["| flavor | a project may pin | the image has |", "| --- | --- | --- |"]
    for name in servers.SERVERS:
        ranges = servers.load(name).SUPPORTED
        lock = versions["REQUIREMENTS"] / f"{name}.lock"
        pins = [versions["pinned"](lock, dist) for dist in ranges]
        allowed = ", ".join(f"{dist} {oldest} to below {below}" for dist, (oldest, below) in ranges.items())
        rows.append(f"| `{name}` | {allowed} | {', '.join(f'{d} {v}' for d, v in zip(ranges, pins, strict=True))} |")
    return "\n".join(rows)


# The container's exit statuses; 2 is cli.main's for a refused configuration, 126 and 127 the shell's.
EXITS = {
    "0": "stopped by SIGTERM or SIGINT after a graceful drain",
    "1": "the server failed (granian: also the app failed to load)",
    "2": "bad configuration: one line names the variable, its value and what is expected, or the server flags and "
    "what the server's parser said of them; or started as root without the capabilities to switch users (add "
    "`--user 10001:10001`)",
    str(BOOT_ERROR): "the app failed to load (its traceback is in the log once)",
    str(CUT): "stopped by SIGTERM or SIGINT, but `GRACEFUL_TIMEOUT` cut requests still in flight; a line says how many",
    "126, 127": "the command given cannot be run, or was not found",
}


def exits() -> str:
    rows = ["| status | meaning |", "| --- | --- |"]
    rows += [f"| {status} | {meaning} |" for status, meaning in EXITS.items()]
    return "\n".join(rows)


BLOCKS = {"variables": variables, "tags": tags, "flavors": flavors, "supported": supported, "exits": exits}


def block(text: str, name: str) -> re.Match | None:
    return re.search(rf"(<!-- BEGIN {name}[^>]*-->\n)(.*?)(\n<!-- END {name} -->)", text, re.DOTALL)


def main() -> int:
    text = README.read_text()
    for name, table in BLOCKS.items():
        found = block(text, name)
        if not found:
            print(f"{README}: no {name} block", file=sys.stderr)
            return 1
        text = text[: found.start(2)] + table() + text[found.end(2) :]
    README.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
