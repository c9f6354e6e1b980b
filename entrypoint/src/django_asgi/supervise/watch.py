"""RELOAD=1's file watching: the .py files under a directory, polled for changes.

Polling, not inotify: stdlib only, and it works on every filesystem a volume may be (bind mounts
from macOS and Windows included). A second between polls is quick enough for a developer.
"""

import os
from pathlib import Path

SKIP_DIRS = {"__pycache__", "node_modules", "static", "staticfiles", "media"}
INTERVAL = 1.0  # seconds between polls


def snapshot(root: Path) -> dict[str, int]:
    found = {}
    for directory, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if not name.startswith(".") and name not in SKIP_DIRS]
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                try:
                    found[path] = os.stat(path).st_mtime_ns
                except OSError:
                    pass
    return found


class Watcher:
    """changed(now) says, at most once per interval, the first file added, removed or edited since
    the last poll, or None."""

    def __init__(self, root: Path, now: float, interval: float = INTERVAL) -> None:
        self.root = root
        self.interval = interval
        self.files = snapshot(root)
        self.next_poll = now + interval

    def changed(self, now: float) -> str | None:
        if now < self.next_poll:
            return None
        self.next_poll = now + self.interval
        current = snapshot(self.root)
        if current == self.files:
            return None
        first = sorted(set(current.items()) ^ set(self.files.items()))[0][0]
        self.files = current
        return first
