"""A fifth server is its folder, its SERVERS line and its requirements files, nothing else.

A copy of this tree gets tests/unit/fifth_server/ as entrypoint/src/django_asgi/servers/echo/, one
line in SERVERS and images/requirements/echo.in and .lock. The generated files are made again by their
own commands (images/versions.py, docs/tables.py), and then the tree's own tests see the new server
everywhere they take servers from: the bake file, the README's tables, the contract's help, every
test parametrised over the servers (its expected command line from its folder), the patch guard's."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER = Path(__file__).resolve().parent / "fifth_server"
SKIPPED = shutil.ignore_patterns(".git", "__pycache__", "results.json", "*.egg-info")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    tree = tmp_path_factory.mktemp("fifth") / "tree"
    shutil.copytree(ROOT, tree, ignore=SKIPPED)
    shutil.copytree(FOLDER, tree / "entrypoint" / "src" / "django_asgi" / "servers" / "echo")
    registry = tree / "entrypoint" / "src" / "django_asgi" / "servers" / "__init__.py"
    text = registry.read_text()
    line = '    "daphne": "django_asgi.servers.daphne",\n'
    assert line in text
    registry.write_text(text.replace(line, line + '    "echo": "django_asgi.servers.echo",\n'))
    requirements = tree / "images" / "requirements"
    (requirements / "echo.in").write_text("echo\n")
    (requirements / "echo.lock").write_text("echo==1.0.2 \\\n    --hash=sha256:" + "0" * 64 + "\n")
    for command in (["images/versions.py"], ["docs/tables.py"]):
        run(tree, sys.executable, *command)
    return tree


def run(tree: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree / "entrypoint" / "src")}
    result = subprocess.run(args, cwd=tree, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_generated_files_name_it(tree):
    bake = (tree / "docker-bake.hcl").read_text()
    assert 'variable "FLAVORS" { default = ["daphne", "echo", "granian", "hypercorn", "uvicorn"] }' in bake
    assert 'echo = "1.0.2"' in bake
    assert (tree / "images" / "requirements" / "echo.supported").read_text() == "echo>=1.0.0,<1.1\n"
    readme = (tree / "README.md").read_text()
    assert "| `django-asgi:echo` | echo: the fifth server of the tests |" in readme
    assert re.search(r"^\| \| granian \| uvicorn \| hypercorn \| daphne \| echo \|$", readme, re.MULTILINE)
    assert "The server to run: daphne, echo, granian, hypercorn or uvicorn" in readme
    # Nothing else of the tree changed but what the commands generate.
    changed = {
        str(path.relative_to(tree))
        for path in tree.rglob("*")
        if path.is_file() and (ROOT / path.relative_to(tree)).is_file()
        and path.read_bytes() != (ROOT / path.relative_to(tree)).read_bytes()
    }  # fmt: skip
    assert changed == {"docker-bake.hcl", "README.md", "entrypoint/src/django_asgi/servers/__init__.py"}


def test_the_trees_own_unit_tests_take_it_in(tree):
    # Its expected command line comes from its folder; the registry's, the README's and the generated
    # files' checks pass with it.
    pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    files = ["test_servers.py", "test_registry.py", "test_readme.py", "test_generated.py", "test_cli.py"]
    result = run(tree, *pytest, "-k", "echo or readme or generated", *[f"tests/unit/{name}" for name in files])
    summary = result.stdout.strip().splitlines()[-1]
    passed = int(re.match(r"(\d+) passed", summary)[1])
    assert passed >= 20 and "failed" not in summary and "error" not in summary, result.stdout
    ids = run(tree, *pytest, "--collect-only", "tests/unit").stdout
    for test in ("test_defaults[echo]", "test_each_server_declares_its_facts[echo]", "test_dry_run_prints_the_plan"):
        assert any(test in line and "echo" in line for line in ids.splitlines()), test


def test_the_container_suite_takes_it_in(tree):
    # Collected only (there is no echo image): every test over the flavors, the patch guard's included.
    ids = run(tree, sys.executable, "-m", "pytest", "-q", "--collect-only", "-p", "no:cacheprovider",
              "tests/container/test_hardening.py", "tests/container/test_images.py").stdout.splitlines()  # fmt: skip
    for test in (
        "test_a_patch_whose_target_moved_stops_the_build[echo]",
        "test_a_copied_function_changed_upstream_stops_the_build[echo]",
        "test_server_flag_is_appended[echo]",
        "test_no_setuid_or_setgid_files[echo]",
    ):
        assert any(line.endswith(test) for line in ids), (test, ids[-5:])
