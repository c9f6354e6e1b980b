"""Built as root, served as the app user: what the serving user can and cannot touch, on every flavor."""

import pytest
import testinfra

from django_asgi import servers
from tests.support.containers import docker

APP_UID = APP_GID = 10001
# Each server's package, which the serving user must not be able to change.
SERVER_PACKAGE = {flavor: servers.load(flavor).DISTRIBUTIONS[0] for flavor in servers.SERVERS}


ATTEMPTS = """
import importlib.util, pathlib, site, sys
targets = {
    "pth": pathlib.Path(site.getsitepackages()[0]) / "injected.pth",
    "server": pathlib.Path(importlib.util.find_spec(sys.argv[1]).origin),
    "project": pathlib.Path("/app/hello_django/views.py"),
    "init": pathlib.Path("/opt/venv/bin/dumb-init"),
    "entrypoint": pathlib.Path(importlib.util.find_spec("django_asgi").origin),
}
for name, path in targets.items():
    try:
        with open(path, "a") as file:
            file.write("\\nimport os  # injected\\n")
        print(name, "WRITTEN")
    except PermissionError:
        print(name, "refused")
"""


def test_serving_user_cannot_change_the_code_it_runs(example_image, flavor, run_container):
    container = run_container(example_image, env={"WORKERS": "2"}).wait_ready()
    # Every process of the container but PID 1 (dumb-init, root's as the container was started) is the
    # app user's.
    processes = [p for p in container.processes() if p["pid"] != 1]
    assert len(processes) >= 3, processes
    assert {(p["uid"], p["gid"]) for p in processes} == {(APP_UID, APP_GID)}, processes
    result = docker("exec", "-u", f"{APP_UID}:{APP_GID}", container.name, "python", "-c", ATTEMPTS,
                    SERVER_PACKAGE[flavor])  # fmt: skip
    assert result.stdout.split("\n")[:-1] == [
        f"{name} refused" for name in ("pth", "server", "project", "init", "entrypoint")
    ], result.stdout + result.stderr
    # What it runs belongs to root, and neither its group nor others may write it.
    host = testinfra.get_host(f"docker://{container.name}")
    for path in ("/opt/venv/bin/dumb-init", "/opt/venv/bin/python", "/app", "/app/hello_django/views.py"):
        code = host.file(path)
        assert (code.user, code.group) == ("root", "root") and not code.mode & 0o022, (path, code.mode)
    # Nothing of the image is writable by the serving user but /tmp and /data.
    found = docker("exec", "-u", f"{APP_UID}:{APP_GID}", container.name, "find", "/", "-xdev", "-writable",
                   "-not", "-path", "/proc/*", "-not", "-path", "/tmp/*", "-not", "-path", "/data/*",
                   check=False).stdout.split()  # fmt: skip
    assert sorted(found) == ["/data", "/tmp"]


def test_commands_run_as_the_app_user_and_the_entrypoint_can_be_bypassed(image):
    assert docker("run", "--rm", image, "id", "-u").stdout == f"{APP_UID}\n"
    assert docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout == "0\n"


def test_root_without_capabilities_is_told_to_use_user(image):
    result = docker("run", "--rm", "--cap-drop", "ALL", image, check=False)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"django-asgi: started as root without CAP_SETUID and CAP_SETGID to switch to uid {APP_UID}: "
        f"run with --user {APP_UID}:{APP_GID} (the capabilities were dropped, e.g. --cap-drop ALL)"
    ]


def test_root_owned_volume_is_handed_to_the_app_user(image, empty_volume):
    (empty_volume / "lost+found").mkdir()  # what a fresh ext4 volume holds
    script = "import os; open('/data/state', 'w').write('kept'); print(os.getuid(), os.environ['HOME'])"
    result = docker("run", "--rm", "-v", f"{empty_volume}:/data", image, "python", "-c", script)
    assert result.stdout == f"{APP_UID} /app\n"
    assert (empty_volume / "state").read_text() == "kept"
    for path in (empty_volume, empty_volume / "state", empty_volume / "lost+found"):
        assert (path.stat().st_uid, path.stat().st_gid) == (APP_UID, APP_GID), path


def test_writable_dirs_started_as_another_user_must_be_writable_already(image):
    result = docker("run", "--rm", "--user", f"{APP_UID}:{APP_GID}", "-e", "WRITABLE_DIRS=/app/media", image,
                    check=False)  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"django-asgi: WRITABLE_DIRS='/app/media': /app/media is not writable by uid {APP_UID}, and only a "
        "container started as root can hand it over (or give the volume to this group: fsGroup)"
    ]


@pytest.mark.parametrize("path", ["/app", "/opt/venv/lib"])
def test_writable_dirs_never_cover_code(image, path):
    result = docker("run", "--rm", "-e", f"WRITABLE_DIRS={path}", image, check=False)
    assert result.returncode == 2
    assert "holds the project's code or the virtualenv" in result.stderr


def test_hooks_run_as_the_app_user(image, tmp_path, run_container):
    hook = tmp_path / "10-whoami"
    hook.write_text('#!/bin/sh\necho "hook ran as $(id -u):$(id -g)"\n')
    hook.chmod(0o755)
    container = run_container(image, docker_args=("-v", f"{hook}:/docker-entrypoint.d/10-whoami:ro")).wait_ready()
    assert f"hook ran as {APP_UID}:{APP_GID}" in container.logs()
