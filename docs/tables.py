"""The README's generated tables: the variable reference (django_asgi.contract.VARIABLES), the tag
table and the flavor table (each server's TAG and FLAVOR_TABLE). tests/unit/test_readme.py checks
the README against them; outside the entrypoint's package, as no image runs it.

    python docs/tables.py          rewrite the README's blocks (with the entrypoint importable)
"""

import re
import sys
from pathlib import Path

from django_asgi import contract, servers

README = Path(__file__).resolve().parent.parent / "README.md"


def variables() -> str:
    rows = ["| Variable | Default | Example | Meaning |", "| --- | --- | --- | --- |"]
    rows += [f"| `{v.name}` | {v.shown_default} | `{v.example}` | {v.help} |" for v in contract.VARIABLES]
    return "\n".join(rows)


def tags(image: str = "django-asgi") -> str:
    rows = ["| Tag | Server |", "| --- | --- |"]
    rows += [f"| `{image}:{name}` | {servers.load(name).TAG} |" for name in servers.SERVERS]
    return "\n".join(rows)


def flavors() -> str:
    columns = {name: servers.load(name).FLAVOR_TABLE for name in servers.SERVERS}
    first = next(iter(columns.values()))
    for name, column in columns.items():
        if list(column) != list(first):
            raise ValueError(f"servers/{name}: FLAVOR_TABLE rows differ from the others': {list(column)}")
    rows = [f"| | {' | '.join(servers.SERVERS)} |", "| --- |" + " --- |" * len(servers.SERVERS)]
    rows += [f"| {row} | {' | '.join(column[row] for column in columns.values())} |" for row in first]
    return "\n".join(rows)


BLOCKS = {"variables": variables, "tags": tags, "flavors": flavors}


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
