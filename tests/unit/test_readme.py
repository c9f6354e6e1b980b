"""The README's generated tables are the entrypoint's own: the variable reference (django_asgi.contract)
and the servers' tag and flavor tables (each server's folder), as docs/tables.py makes them."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TABLES = runpy.run_path(str(ROOT / "docs" / "tables.py"))


@pytest.mark.parametrize("name", TABLES["BLOCKS"])
def test_readme_table_matches_the_entrypoint(name):
    found = TABLES["block"]((ROOT / "README.md").read_text(), name)
    assert found, f"README lost its {name} block"
    assert found[2] == TABLES["BLOCKS"][name](), f"README's {name} table is stale: run python docs/tables.py"
