"""`django-asgi compile` writes the project's bytecode and names what does not compile, without failing."""

import importlib.util
import subprocess
import sys

from django_asgi import bytecode
from tests.support.entrypoint_runs import child_env


def test_every_module_is_compiled_and_a_broken_one_is_one_line(tmp_path):
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "views.py").write_text("def index(request):\n    return 'ok'\n")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "old.py").write_text("print 'python 2'\n")
    (tmp_path / "node_modules" / "pkg").mkdir(parents=True)
    (tmp_path / "node_modules" / "pkg" / "gyp.py").write_text("x = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "django_asgi", "compile"],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "django-asgi: not compiled: scripts/old.py: line 1: SyntaxError: Missing parentheses in call to 'print'. "
        "Did you mean print(...)?",
        f"django-asgi: compiled 1 module under {tmp_path}; 1 did not compile (above): importing them would fail "
        "the same way",
    ]
    assert (tmp_path / importlib.util.cache_from_source("shop/views.py")).is_file()
    assert not (tmp_path / "node_modules" / "pkg" / "__pycache__").exists()  # not the project's code


def test_a_tree_that_compiles_says_how_much(tmp_path, capsys):
    (tmp_path / "a.py").write_text("A = 1\n")
    assert bytecode.main(str(tmp_path)) == 0
    assert capsys.readouterr().err == f"django-asgi: compiled 1 module under {tmp_path}\n"
