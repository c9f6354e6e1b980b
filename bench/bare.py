"""The image's filesystem run on the bare host (chroot): the same server with no container around it."""

import json
import os
import platform
import shutil
import signal
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ports import free_port  # tests/ports.py (bench/run puts tests/ on the path)
from tools import docker, run


class BareRoot:
    """The image's filesystem unpacked on the host: its venv and Python run with no container around them."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.dir = Path(tempfile.mkdtemp(prefix="django-asgi-bare-"))
        self.dir.chmod(0o755)  # the root of the tree the app user runs in
        created = docker("create", image).stdout.strip()
        try:
            export = subprocess.Popen(["docker", "export", created], stdout=subprocess.PIPE)
            subprocess.run(["tar", "-x", "-C", str(self.dir)], stdin=export.stdout, check=True)
            export.wait()
        finally:
            docker("rm", created)
        config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
        self.env = dict(item.split("=", 1) for item in config["Env"])
        self.workdir = config["WorkingDir"]
        for mount in (["-t", "proc", "proc", "proc"], ["--rbind", "/dev", "dev"], ["--rbind", "/sys", "sys"]):
            run("mount", *mount[:-1], str(self.dir / mount[-1]))

    @contextmanager
    def serve(self, env: dict[str, str]):
        port = free_port()
        environment = {**self.env, **env, "HOST": "127.0.0.1", "PORT": str(port), "HOME": self.workdir}
        command = [
            "chroot",
            "--userspec=10001:10001",
            str(self.dir),
            "/usr/bin/env",
            "-i",
            *[f"{key}={value}" for key, value in environment.items()],
            "/bin/sh",
            "-c",
            f"cd {self.workdir} && exec django-asgi",
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            yield f"http://127.0.0.1:{port}", process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def remove(self) -> None:
        subprocess.run(["umount", "-R", str(self.dir / "sys")], capture_output=True)
        subprocess.run(["umount", "-R", str(self.dir / "dev")], capture_output=True)
        subprocess.run(["umount", str(self.dir / "proc")], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def bare_possible() -> str:
    """Empty when the bare-host runs can happen here, else why not."""
    if platform.system() != "Linux":
        return "needs Linux"
    if os.geteuid() != 0:
        return "needs root (chroot and mounts)"
    if not shutil.which("chroot"):
        return "needs chroot"
    return ""
