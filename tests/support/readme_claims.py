"""The README's claims, as the container tests read them: the flavor table from each server's folder
and the exit statuses, through docs/tables.py, which writes them into the README (test_readme checks
that the Markdown says the same).

The tests that check a row of the flavor table or a line of the exit-status table take what they
expect from here, not from a copy: a cell that changes changes what is tested, and test_readme_claims
fails for a row no test reads.
"""

import re
import runpy

from django_asgi.runtime.handoff import HEAD_LIMIT
from tests.support.containers import FLAVORS, ROOT

TABLES = runpy.run_path(str(ROOT / "docs" / "tables.py"))
FLAVOR_TABLE: dict[str, dict[str, str]] = TABLES["flavor_facts"]()
EXIT_STATUSES: dict[str, str] = TABLES["EXITS"]
assert sorted(next(iter(FLAVOR_TABLE.values()))) == sorted(FLAVORS), FLAVOR_TABLE
# Rows read by the tests of this run (filled at collection, when the test modules are imported).
READ: set[str] = set()


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
    """The request-head limit promised on every flavor (docs/flavors.md, "One limit on the request head",
    which tests/unit/test_readme.py holds to the same constant)."""
    READ.add("head limit")
    return HEAD_LIMIT
