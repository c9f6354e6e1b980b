"""Where the project writes: MEDIA_ROOT and FILE_UPLOAD_TEMP_DIR, read from its settings.

`MEDIA_ROOT = BASE_DIR / "media"` is Django's most common layout, and the code tree is root's: every
page that writes a thumbnail or an upload there would answer 500. The settings are the only place that
says where media goes, and importing them runs project code, so they are read in a forked child (at
start one that has already become the app user), with its output silenced (the server prints what the
settings print, once) and a deadline; the entrypoint (root) then hands the directories inside the
working directory over, as it does WRITABLE_DIRS.

The build step `django-asgi compile` reads them once and records them (RECORD): a start then reads a
few lines instead of importing Django and the settings (about 33 ms, over the cold-start bound). A
start without a record for its working directory and settings module reads the settings itself.
"""

from __future__ import annotations

import os

DEADLINE = 10.0  # seconds the settings may take to import before the start goes on without them
NAMES = ("MEDIA_ROOT", "FILE_UPLOAD_TEMP_DIR")
# Root's, outside the code tree: "<working directory>\t<settings module>", then "<setting>\t<path>" lines.
RECORD = "/var/lib/django-asgi/written"


class Written:
    """A directory the settings write to, and where it lies. A plain class: dataclasses imports inspect,
    about 20 ms of every start."""

    __slots__ = ("inside", "on_volume", "path", "setting")

    def __init__(self, setting: str, path: str, inside: bool, on_volume: bool) -> None:
        self.setting, self.path = setting, path
        self.inside = inside  # within the working directory (the code tree), and no package of it
        self.on_volume = on_volume  # on a mount of its own, not the container's root file system

    def _fields(self) -> tuple:
        return (self.setting, self.path, self.inside, self.on_volume)

    def __eq__(self, other) -> bool:
        return isinstance(other, Written) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Written{self._fields()!r}"

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
    return _found(_probe(settings, app_dir, user, deadline) or {}, app_dir)


def _probe(settings: str, app_dir: str, user: tuple[int, int] | None, deadline: float = DEADLINE) -> dict | None:
    """{setting: value} as the settings say, or None when they fail to import or miss the deadline."""
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
        # Until the child closes its end, or the deadline: what it wrote by then is whole JSON, or none.
        while (left := end - time.monotonic()) > 0 and select.select([read], [], [], left)[0]:
            chunk = os.read(read, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read)
        try:
            os.kill(child, signal.SIGKILL)  # a settings import past the deadline
        except ProcessLookupError:
            pass
        os.waitpid(child, 0)
    try:
        found = json.loads(data)
    except ValueError:
        return None
    return {name: found[name] for name in NAMES if isinstance(found.get(name), str)}


def _found(values: dict[str, str], app_dir: str) -> list[Written]:
    return [_written(name, values[name], app_dir) for name in NAMES if values.get(name)]


def record(settings: str, app_dir: str, path: str = RECORD) -> list[Written] | None:
    """At build: read the settings (None when they do not import here) and record what they name."""
    found = _probe(settings, app_dir, None)
    if found is None:
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as out:
        out.write(f"{app_dir}\t{settings}\n")
        out.writelines(f"{name}\t{value}\n" for name, value in found.items())
    return _found(found, app_dir)


def recorded(settings: str, app_dir: str, path: str = RECORD) -> list[Written] | None:
    """What the build recorded for this working directory and settings module, or None."""
    try:
        with open(path) as lines:
            head, *rest = lines.read().splitlines()
    except (OSError, ValueError):
        return None
    if head != f"{app_dir}\t{settings}":
        return None
    return _found(dict(line.split("\t", 1) for line in rest if "\t" in line), app_dir)


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
    inside = real.startswith(tree.rstrip("/") + "/") and not _holds_code(real)
    return Written(setting, path, inside, _on_volume(real))


def _holds_code(path: str) -> bool:
    """A folder of Python modules (MEDIA_ROOT = BASE_DIR / "shop" by mistake) is never handed over."""
    try:
        return any(name.endswith(".py") for name in os.listdir(path))
    except OSError:
        return False


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
