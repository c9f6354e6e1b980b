"""examples/hello_django/compose.yaml: edit a view on the host, see it served, no restart."""

import os
import shutil
import subprocess
import uuid

import pytest

from tests.support.build_ca import to_build_from
from tests.support.containers import ROOT, docker, http_get
from tests.support.polling import wait_for
from tests.support.ports import free_port


@pytest.fixture
def project(tmp_path):
    """A copy of the example, readable by the image's user (uid 10001) through the bind mount."""
    copy = tmp_path / "hello_django"
    shutil.copytree(ROOT / "examples" / "hello_django", copy)
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


def test_compose_reloads_an_edited_view(project, image):
    name = f"django-asgi-compose-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {**os.environ, "IMAGE": to_build_from(image), "HOST_PORT": str(port)}

    def compose(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker", "compose", "-p", name, *args],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    up = compose("up", "-d", "--build")
    try:
        assert up.returncode == 0, up.stderr
        url = f"http://127.0.0.1:{port}/"

        def answer() -> str:
            try:
                return http_get(url, timeout=2)[1]
            except OSError:
                return ""

        wait_for(lambda: answer() == "Hello from Django\n", 60, message="the example to answer")
        (container,) = compose("ps", "-q").stdout.split()
        started = docker("inspect", "-f", "{{.State.StartedAt}}", container).stdout
        views = project / "hello_django" / "views.py"
        views.write_text(views.read_text().replace("Hello from Django", "Hello after an edit"))
        wait_for(lambda: answer() == "Hello after an edit\n", 30, interval=0.25, message="the edited view")
        # The same container served it: reloaded inside, not restarted.
        assert docker("inspect", "-f", "{{.State.StartedAt}}", container).stdout == started
    finally:
        compose("down", "-v", "--rmi", "local", timeout=120)
