"""A stop while the app still loads: exit status 0 and no traceback, as after a drain."""

import signal
import subprocess
import sys

import pytest

LOADING = """
from django_asgi.runtime import boot, early_stop
early_stop.until_serving()
boot.load_or_exit("slowapp:application")
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_while_the_app_loads_exits_0_quietly(tmp_path, signum):
    (tmp_path / "slowapp.py").write_text("import time\nprint('importing', flush=True)\ntime.sleep(30)\n")
    process = subprocess.Popen(
        [sys.executable, "-c", LOADING], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout.readline() == "importing\n"
    process.send_signal(signum)
    _, err = process.communicate(timeout=10)
    assert (process.returncode, err) == (0, "")
