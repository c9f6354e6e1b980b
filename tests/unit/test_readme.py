"""The README's generated tables are the entrypoint's own: the variable reference (django_asgi.contract),
the servers' tag and flavor tables (each server's folder) and the exit statuses, as docs/tables.py makes
them; the sentences moved to docs/ still say what the code does, and every link between them resolves."""

import re
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


def test_the_documents_say_the_head_limit_the_runtime_applies():
    from django_asgi.runtime.handoff import HEAD_LIMIT

    text = " ".join((ROOT / "docs" / "flavors.md").read_text().split())
    assert f"One limit on the request head (request line and headers) on every flavor: {HEAD_LIMIT // 1024} KiB" in text


DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_link_to_a_file_of_the_tree_resolves(document):
    # Sections moved between the README and docs/ keep their links working.
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", document.read_text())
    local = [target for target in targets if "://" not in target]
    missing = [target for target in local if not (document.parent / target).exists()]
    assert not missing, missing


def test_the_readme_is_short_and_sends_the_details_to_docs():
    # The newcomer's page: the per-server behaviour, the benchmark's method, building and releasing live in docs/.
    readme = (ROOT / "README.md").read_text()
    for document in ("flavors.md", "benchmark.md", "building.md", "releasing.md", "testing.md", "compiled.md"):
        assert f"](docs/{document})" in readme, document
    assert len(readme.splitlines()) < 400


def _instructions(dockerfile: str, *keywords: str) -> list[str]:
    """The Dockerfile's instructions of these kinds, continuation lines joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", dockerfile)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [" ".join(line.split()) for line in lines if line.split()[0] in keywords]


def test_the_example_is_the_use_it_recipe():
    """'examples/hello_django is exactly this': the same steps (its ENV names its own project)."""
    section = (ROOT / "README.md").read_text().split("\n## Use it\n", 1)[1]
    recipe = re.search(r"```dockerfile\n(.*?)```", section, re.S)[1]
    example = (ROOT / "examples" / "hello_django" / "Dockerfile").read_text()
    steps = ("WORKDIR", "COPY", "RUN")
    assert _instructions(recipe, *steps) == _instructions(example, *steps)


def test_the_reasons_for_each_range_name_its_start():
    """docs/flavors.md says why a range starts where it does ("granian from 2.8.0"): the version it names is
    the range's oldest still (a new server's range needs no reason there)."""
    from django_asgi import servers

    section = (ROOT / "docs" / "flavors.md").read_text().split("## Supported versions", 1)[1].split("\n## ", 1)[0]
    text = " ".join(section.replace("**", "").lower().split())
    named = 0
    for name in servers.SERVERS:
        for distribution, (oldest, _) in servers.load(name).SUPPORTED.items():
            found = re.findall(rf"\b{re.escape(distribution)} from ([0-9][0-9.]*[0-9])", text)
            assert found in ([], [oldest]), (distribution, oldest, found)
            named += bool(found)
    assert named >= 8
