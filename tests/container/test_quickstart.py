"""README's quickstart, run as written: its shell blocks in order, its Dockerfile block as ./Dockerfile."""

import os
import re
import signal
import subprocess
import urllib.error

from tests.support.containers import ROOT, docker, http_get
from tests.support.polling import wait_for

QUICKSTART_URL = "http://127.0.0.1:8000/"


def quickstart_script() -> str:
    section = (ROOT / "README.md").read_text().split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    lines = ["set -euo pipefail"]
    for language, body in re.findall(r"```(\w+)\n(.*?)```", section, re.S):
        assert language in ("sh", "dockerfile"), language
        lines.append(body if language == "sh" else f"cat > Dockerfile <<'DOCKERFILE'\n{body}DOCKERFILE\n")
    return "\n".join(lines)


def test_readme_quickstart_runs_as_written(tmp_path):
    script = quickstart_script()
    assert "docker run" in script.splitlines()[-1]  # the last command serves, in the foreground
    process = subprocess.Popen(["bash", "-c", script], cwd=tmp_path, start_new_session=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip

    def welcome() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the quickstart stopped with {process.returncode}:\n{process.stdout.read()}")
        try:
            status, body = http_get(QUICKSTART_URL, timeout=2)
        except (OSError, urllib.error.URLError):
            return False
        return status == 200 and "The install worked successfully" in body

    try:
        wait_for(welcome, 300, interval=0.5, message="the quickstart's project to answer")
        assert (tmp_path / "mysite" / "manage.py").exists()
    finally:
        # As Ctrl-C would: docker run passes the signal on, the container drains and is removed.
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(60)
        docker("rmi", "-f", "mysite", check=False)
