"""Started as root: make the state directories the app user's, then become that user.

The pattern of docker-library's entrypoints (postgres, redis): the image's code
stays root-owned, the container starts as root, hands the data directories to
the service user and drops privileges before anything of the project runs.
Done in this process (setresuid, not an exec of setpriv or gosu): nothing more
to start, nothing to download.
"""

from __future__ import annotations

import os
import sys

from django_asgi.errors import ConfigError, StartRefused

DATA_DIR = "/data"  # always handed over; WRITABLE_DIRS adds more
# Bits of CapEff in /proc/self/status (linux/capability.h).
CAP_SETGID, CAP_SETUID = 6, 7

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import MutableMapping


def switch(
    user: tuple[int, int] | None,
    writable: tuple[str, ...],
    env: MutableMapping[str, str],
    app_dir: str,
    media: tuple[str, ...] = (),
) -> None:
    """As root with a user to switch to: hand over the writable directories, then become the user.
    media: directories inside the working directory that the settings write to (django_asgi.media);
    one that cannot be handed over (a read-only root) is left as it is, and the summary line says so.

    Anything else (started as another user, or no user configured) runs as it is.
    """
    if user is None or os.geteuid() != 0:
        return
    uid, gid = user
    missing = [name for bit, name in ((CAP_SETUID, "CAP_SETUID"), (CAP_SETGID, "CAP_SETGID")) if not _has(bit)]
    if missing:
        raise StartRefused(
            f"started as root without {' and '.join(missing)} to switch to uid {uid}: "
            f"run with --user {uid}:{gid} (the capabilities were dropped, e.g. --cap-drop ALL)"
        )
    for path in _checked(writable, app_dir):
        hand_over(path, uid, gid)
    for path in media:
        try:
            hand_over(path, uid, gid)
        except StartRefused:
            pass
    home = _home(uid)
    os.setgroups([gid])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    env["HOME"] = home


def hand_over(path: str, uid: int, gid: int) -> None:
    """Make the directory writable by uid: created when missing; taken over with its content when it is not."""
    try:
        if not os.path.isdir(path):
            os.makedirs(path, mode=0o755)
            os.chown(path, uid, gid)
            return
        info = os.stat(path)
        if _writable(info, uid, gid):
            return
        # A fresh volume (root-owned, empty but for lost+found) or files an earlier root process left:
        # taken over once; later starts find it writable and walk nothing.
        for directory, dirs, files in os.walk(path):
            for name in dirs + files:
                os.lchown(os.path.join(directory, name), uid, gid)
        os.chown(path, uid, gid)
        os.chmod(path, info.st_mode | 0o700)
    except OSError as error:
        raise StartRefused(f"cannot make {path} writable by uid {uid}: {error.strerror}") from None


def _checked(writable: tuple[str, ...], app_dir: str, venv: str = sys.prefix) -> list[str]:
    """/data and WRITABLE_DIRS, refusing any that would make code writable: the working directory or
    a directory above it (a folder inside it, such as /app/media, is fine), the virtualenv or anything
    in or above it."""

    def within(path: str, place: str) -> bool:
        return path == place or path.startswith(place.rstrip("/") + "/")

    app_dir, venv = os.path.realpath(app_dir), os.path.realpath(venv)
    for path in writable:
        real = os.path.realpath(path)
        if within(app_dir, real) or within(venv, real) or within(real, venv):
            raise ConfigError(
                "WRITABLE_DIRS",
                ",".join(writable),
                f"{path} holds the project's code or the virtualenv, which the app user must not write; "
                "name a directory for data only, such as /app/media",
            )
    return [DATA_DIR, *writable]


def _writable(info: os.stat_result, uid: int, gid: int) -> bool:
    """Can uid:gid create files in this directory (write and search)?"""
    if info.st_uid == uid:
        return info.st_mode & 0o300 == 0o300
    if info.st_gid == gid:  # Kubernetes' fsGroup hands volumes over this way
        return info.st_mode & 0o030 == 0o030
    return info.st_mode & 0o003 == 0o003


def _has(capability: int) -> bool:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> capability & 1)
    except (OSError, ValueError):
        pass
    return True  # not Linux, or no /proc: let setresuid say


def _home(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_dir
    except KeyError:
        return "/"
