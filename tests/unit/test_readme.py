"""The README's variable reference is the entrypoint's own table."""

import re
from pathlib import Path

from django_asgi.settings import markdown_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_variable_table_matches_the_entrypoint():
    text = README.read_text()
    match = re.search(r"<!-- BEGIN variables[^>]*-->\n(.*?)\n<!-- END variables -->", text, re.DOTALL)
    assert match, "README lost its variables block"
    assert match[1] == markdown_table(), "README's variable table is stale: regenerate it from markdown_table()"
