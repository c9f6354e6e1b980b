"""The README's generated tables are the entrypoint's own: the variable reference (django_asgi.contract)
and the servers' tag and flavor tables (each server's module)."""

import re
from pathlib import Path

import pytest

from django_asgi.contract import markdown_table
from django_asgi.servers import tables

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    "block, table",
    [("variables", markdown_table), ("tags", tables.tag_table), ("flavors", tables.flavor_table)],
    ids=["variables", "tags", "flavors"],
)
def test_readme_table_matches_the_entrypoint(block, table):
    text = README.read_text()
    match = re.search(rf"<!-- BEGIN {block}[^>]*-->\n(.*?)\n<!-- END {block} -->", text, re.DOTALL)
    assert match, f"README lost its {block} block"
    assert match[1] == table(), f"README's {block} table is stale: regenerate it from {table.__qualname__}()"
