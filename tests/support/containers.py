"""Containers of the built images, run as a user would and looked at from outside.

Every container publishes its port on 127.0.0.1 only; readiness is polled with deadlines.
"""

import json
import os
import platform
import subprocess
import tomllib
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

from django_asgi import servers
from tests.support.polling import wait_for
from tests.support.server_facts import server_data

ROOT = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("IMAGE", "django-asgi")
# The servers of this checkout's entrypoint (tests/unit/test_generated.py: one image each).
FLAVORS = servers.names()
# What the release builds: the Pythons, the default one, `latest`.
VERSIONS = tomllib.loads((ROOT / "images" / "versions.toml").read_text())


# tests/arm64 runs images of another platform under emulation: `docker run` asks for it by name
# (otherwise Docker warns about the mismatch on stderr).
PLATFORM = os.environ.get("DJANGO_ASGI_PLATFORM", "")
# Under emulation (another architecture's image) everything is several times slower: daphne with two
# workers answered its first request after 31 s as linux/arm64 on an amd64 machine.
_NATIVE = {"x86_64": "linux/amd64", "aarch64": "linux/arm64"}.get(platform.machine(), "")
STARTUP = 30 * (4 if PLATFORM and PLATFORM != _NATIVE else 1)  # seconds a container has to answer


def docker(*args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    if PLATFORM and args[:1] == ("run",):
        args = ("run", "--platform", PLATFORM, *args[1:])
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check, timeout=timeout, **kwargs)


# What the tests know of each server (its folder's testing.toml).
SERVER_DATA = {flavor: server_data(flavor, python="/opt/venv/bin/python", package=None) for flavor in FLAVORS}
# A harmless flag each server accepts, to show that `docker run IMAGE --flag` reaches it.
SERVER_FLAG = {flavor: SERVER_DATA[flavor]["harmless_flag"] for flavor in FLAVORS}


def http_get(url: str, timeout: float = 5.0, headers: dict | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Container:
    def __init__(
        self, image: str, env: dict | None = None, args: tuple = (), docker_args: tuple = (), port: int = 8000
    ) -> None:
        self.name = f"django-asgi-test-{uuid.uuid4().hex[:10]}"
        self.port = port
        env_args = [item for key, value in (env or {}).items() for item in ("-e", f"{key}={value}")]
        docker("run", "-d", "--name", self.name, "-p", f"127.0.0.1::{port}", *env_args, *docker_args, image, *args)

    @property
    def url(self) -> str:
        mapping = docker("port", self.name, f"{self.port}/tcp").stdout.split()[0]
        return f"http://{mapping}"

    @property
    def address(self) -> tuple[str, int]:
        """Host and port of the published port, for raw sockets."""
        host, port = self.url.removeprefix("http://").rsplit(":", 1)
        return host, int(port)

    def get(self, path: str = "/", **kwargs) -> tuple[int, str]:
        return http_get(self.url + path, **kwargs)

    def running(self) -> bool:
        return self.inspect()["State"]["Running"]

    def wait_ready(self, path: str = "/", timeout: float = STARTUP, headers: dict | None = None) -> "Container":
        def ready():
            if not self.running():
                pytest.fail(f"container exited before serving:\n{self.logs()}")
            try:
                return self.get(path, timeout=2, headers=headers)[0] == 200
            except (OSError, urllib.error.URLError):
                return False

        wait_for(ready, timeout, message=f"{self.url}{path} to answer 200")
        return self

    def logs(self) -> str:
        result = docker("logs", self.name, check=False)
        return result.stdout + result.stderr

    def inspect(self) -> dict:
        return json.loads(docker("inspect", self.name).stdout)[0]

    def exec(self, *command: str, **kwargs) -> subprocess.CompletedProcess:
        return docker("exec", self.name, *command, **kwargs)

    def processes(self) -> list[dict]:
        """Every process in the container, read from /proc: pytest-testinfra's process module runs ps,
        which slim images do not have (and these should not carry for the tests)."""
        script = (
            "import json, os\n"
            "out = []\n"
            "for pid in filter(str.isdigit, os.listdir('/proc')):\n"
            "    try:\n"
            "        stat = open(f'/proc/{pid}/stat').read()\n"
            "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().split(b'\\0')\n"
            "        status = open(f'/proc/{pid}/status').read().splitlines()\n"
            "        uid, gid = ([l for l in status if l.startswith(k)][0].split()[1] for k in ('Uid:', 'Gid:'))\n"
            "    except OSError:\n"
            "        continue\n"
            "    fields = stat.rpartition(')')[2].split()\n"
            "    out.append({'pid': int(pid), 'ppid': int(fields[1]), 'state': fields[0], 'uid': int(uid),\n"
            "                'gid': int(gid), 'cmd': [c.decode() for c in cmd if c],\n"
            "                'name': stat.partition('(')[2].rpartition(')')[0]})\n"
            "print(json.dumps(out))\n"
        )
        processes = json.loads(self.exec("python", "-c", script).stdout)
        for process in processes:
            # Under emulation the kernel starts QEMU with the program's path before its own argv.
            if process["cmd"] and "qemu" in process["cmd"][0]:
                process["cmd"] = process["cmd"][2:]
        # Leave out the probe itself.
        return [p for p in processes if p["cmd"][:2] != ["python", "-c"]]

    def wait_exit(self, timeout: float) -> int:
        """Wait for the container to stop; its exit code."""
        result = docker("wait", self.name, timeout=timeout)
        return int(result.stdout.strip())

    def remove(self) -> None:
        docker("rm", "-f", "-v", self.name, check=False)
