"""`django-asgi compile`: the project's bytecode, written at build (`RUN django-asgi compile`), and
the directories its settings write to, recorded for the starts (django_asgi.media).

The code tree is root's and the server runs as the app user, who cannot write __pycache__: every
worker would compile every module of the project the build did not import, at every start. Built as
root, the .pyc files are there to read. A file that does not compile (a Python 2 script, a template
with a .py name) does not stop the build: one line names it and the error, as the server's import of
it would fail the same way. compileall is not used as it is: it prints a traceback-like block per
failure and its exit status would fail the build.
"""

from __future__ import annotations

import os
import sys

# Folders that hold no code of the project's own (or code it does not run).
SKIPPED = {".git", ".hg", ".svn", "__pycache__", "node_modules", ".venv", "venv", ".tox", ".nox", ".mypy_cache"}


def main(app_dir: str, settings: str | None = None) -> int:
    import py_compile

    compiled, failed = 0, 0
    for path in sorted(_sources(app_dir)):
        try:
            py_compile.compile(path, doraise=True)
            compiled += 1
        except py_compile.PyCompileError as error:
            failed += 1
            print(f"django-asgi: not compiled: {os.path.relpath(path, app_dir)}: {_reason(error)}", file=sys.stderr)
        except OSError as error:
            failed += 1
            print(f"django-asgi: not compiled: {os.path.relpath(path, app_dir)}: {error.strerror}", file=sys.stderr)
    note = f"; {failed} did not compile (above): importing them would fail the same way" if failed else ""
    print(
        f"django-asgi: compiled {compiled} module{'s' if compiled != 1 else ''} under {app_dir}{note}",
        file=sys.stderr,
        flush=True,
    )
    if settings:
        _record(settings, app_dir)
    return 0


def _record(settings: str, app_dir: str) -> None:
    from django_asgi import media

    found = media.record(settings, app_dir)
    if found is None:
        print(f"django-asgi: the settings {settings} do not import here: each start reads them", file=sys.stderr)
    for written in found or ():
        note = "a start as root makes it writable" if written.inside else "outside the working directory"
        print(f"django-asgi: {written.setting} {written.path} recorded ({note})", file=sys.stderr)


def _sources(app_dir: str):
    for directory, dirs, files in os.walk(app_dir):
        dirs[:] = [name for name in dirs if name not in SKIPPED]
        for name in files:
            if name.endswith(".py"):
                yield os.path.join(directory, name)


def _reason(error) -> str:
    cause = error.exc_value
    if isinstance(cause, SyntaxError):
        return f"line {cause.lineno}: {type(cause).__name__}: {cause.msg}"
    return f"{type(cause).__name__}: {cause}"
