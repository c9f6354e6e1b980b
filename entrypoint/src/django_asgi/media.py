"""Where the project writes: MEDIA_ROOT and FILE_UPLOAD_TEMP_DIR, read from its settings at start.

`MEDIA_ROOT = BASE_DIR / "media"` is Django's most common layout, and the code tree is root's: every
page that writes a thumbnail or an upload there would answer 500. The settings are the only place that
says where media goes, and importing them runs project code, so they are read in a forked child that
has already become the app user, with its output silenced (the server prints what the settings print,
once) and a deadline; the entrypoint (root) then hands the directories inside the working directory
over, as it does WRITABLE_DIRS. A fork, not a new interpreter: the cost is the settings' import alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEADLINE = 10.0  # seconds the settings may take to import before the start goes on without them
NAMES = ("MEDIA_ROOT", "FILE_UPLOAD_TEMP_DIR")


@dataclass(frozen=True)
class Written:
    """A directory the settings write to, and what the start did about it."""

    setting: str
    path: str
    inside: bool  # within the working directory (the code tree)
    on_volume: bool  # on a mount of its own, not the container's root file system

    def describe(self, writable: bool) -> str:
        notes = []
        if not writable:
            notes.append("not writable by the app user: set WRITABLE_DIRS or move it under /data")
        if not self.on_volume:
            notes.append("not on a volume: what is written there is lost when the container is replaced")
        return f"{self.setting} {self.path}" + (f" ({'; '.join(notes)})" if notes else "")


def settings_module(configured: str | None, app: str, app_dir: str) -> str | None:
    """DJANGO_SETTINGS_MODULE, else the one the app's module sets by default (startproject's asgi.py:
    `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")`), read without running it."""
    if configured:
        return configured
    import ast

    path = os.path.join(app_dir, *app.split(":")[0].split(".")) + ".py"
    try:
        with open(path, "rb") as source:
            tree = ast.parse(source.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "setdefault"
            and len(node.args) == 2
            and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in node.args)
            and node.args[0].value == "DJANGO_SETTINGS_MODULE"
        ):
            return node.args[1].value
    return None


def probe(settings: str, app_dir: str, user: tuple[int, int] | None, deadline: float = DEADLINE) -> list[Written]:
    """The directories the settings name, read in a child as `user` (None: as this process is).
    Settings that fail to import, or take longer than the deadline, name none: the server reports them."""
    import json
    import select
    import signal
    import time

    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's half, seen by the tests through the result
        os.close(read)
        _child(settings, app_dir, user, write)
    os.close(write)
    data, end = b"", time.monotonic() + deadline
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select([read], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                break
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
        else:
            data = b""
    finally:
        os.close(read)
        try:
            os.kill(child, signal.SIGKILL)  # a settings import past the deadline
        except ProcessLookupError:
            pass
        os.waitpid(child, 0)
    try:
        found = json.loads(data or b"{}")
    except ValueError:
        found = {}
    return [_written(name, found[name], app_dir) for name in NAMES if isinstance(found.get(name), str) and found[name]]


def _child(settings: str, app_dir: str, user: tuple[int, int] | None, out: int) -> None:
    status = 1
    try:
        import sys

        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        sys.stdout = sys.stderr = open(os.devnull, "w")
        if user is not None and os.geteuid() == 0:
            uid, gid = user
            os.setgroups([gid])
            os.setresgid(gid, gid, gid)
            os.setresuid(uid, uid, uid)
        sys.path.insert(0, app_dir)
        os.environ["DJANGO_SETTINGS_MODULE"] = settings
        import json

        from django.conf import settings as django_settings

        found = {name: os.fspath(getattr(django_settings, name) or "") for name in NAMES}
        os.write(out, json.dumps(found).encode())
        status = 0
    except BaseException:
        pass
    finally:
        os._exit(status)


def _written(setting: str, path: str, app_dir: str) -> Written:
    path = os.path.normpath(os.path.join(app_dir, path))
    real, tree = os.path.realpath(path), os.path.realpath(app_dir)
    return Written(setting, path, real.startswith(tree.rstrip("/") + "/"), _on_volume(real))


def _on_volume(path: str) -> bool:
    """Is the path on a mount other than the root file system (a volume, a bind mount, a tmpfs)?"""
    mounts = []
    try:
        with open("/proc/self/mountinfo") as info:
            mounts = [line.split()[4] for line in info]
    except OSError:
        return False
    best = max((m for m in mounts if path == m or path.startswith(m.rstrip("/") + "/")), key=len, default="/")
    return best != "/"
