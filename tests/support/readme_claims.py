"""The README's claim tables, as the container tests read them.

The tests that check a row of the flavor table ("Which flavor?") or a line of the exit-status
table take what they expect from here, not from a copy: a cell that changes changes what is
tested, and test_readme_claims fails for a row no test reads.
"""

import itertools
import re

from tests.support.containers import FLAVORS, ROOT

README = (ROOT / "README.md").read_text()
# Rows read by the tests of this run (filled at collection, when the test modules are imported).
READ: set[str] = set()


def _table(header: str) -> tuple[list[str], list[list[str]]]:
    """The header cells and the rows of cells of the Markdown table whose header line starts with `header`."""
    lines = README.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    table = itertools.takewhile(lambda line: line.startswith("|"), lines[start:])
    cells = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table]
    return cells[0], cells[2:]  # the second line is the separator


def _flavor_table() -> dict[str, dict[str, str]]:
    header, rows = _table("| | granian")
    order = header[1:]
    assert sorted(order) == sorted(FLAVORS), order
    return {row[0]: dict(zip(order, row[1:], strict=True)) for row in rows}


FLAVOR_TABLE = _flavor_table()
EXIT_STATUSES = {row[0]: row[1] for row in _table("| status | meaning |")[1]}


def cell(row: str, flavor: str) -> str:
    READ.add(row)
    return FLAVOR_TABLE[row][flavor]


def flavors(row: str, claim) -> list[str]:
    """The flavors whose cell in `row` makes `claim` (a predicate on the cell's text)."""
    return [flavor for flavor in FLAVORS if claim(cell(row, flavor))]


def close_code(row: str, flavor: str) -> int:
    """The WebSocket close code a cell names."""
    return int(re.search(r"\b(1\d{3})\b", cell(row, flavor))[1])


def exit_status(meaning: str) -> int:
    """The exit status whose meaning in the table starts with `meaning`."""
    READ.add(f"exit {meaning}")
    (status,) = [status for status, text in EXIT_STATUSES.items() if text.startswith(meaning)]
    return int(status.split(",")[0])


def head_limit() -> int:
    """The request-head limit the README promises on every flavor ("One limit on the request head")."""
    READ.add("head limit")
    kib = re.search(r"One limit on the request head \(request line and headers\) on every\s+flavor: (\d+) KiB", README)
    return int(kib[1]) * 1024
