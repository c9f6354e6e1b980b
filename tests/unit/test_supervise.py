"""django_asgi.supervise in a child process, with small `python -c` workers that report through files.

Every wait polls a condition under a deadline; nothing sleeps to synchronise.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from django_asgi.runtime.boot import BOOT_ERROR
from django_asgi.runtime.inflight import CUT
from tests.support.entrypoint_runs import child_env
from tests.support.polling import wait_for

# A worker: writes started-<pid>, writes term-<pid> on SIGTERM and exits 0, else waits for ever.
WORKER = textwrap.dedent("""
    import os, signal, sys, time
    here = sys.argv[1]
    def stop(signum, frame):
        open(os.path.join(here, f"term-{os.getpid()}"), "w").close()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    open(os.path.join(here, f"started-{os.getpid()}"), "w").close()
    while True:
        time.sleep(1)
""")


class Supervisor:
    def __init__(self, tmp_path, *options: str, child: list[str] | None = None):
        self.dir = tmp_path
        command = [
            sys.executable,
            "-m",
            "django_asgi.supervise",
            *options,
            "--",
            *(child or [sys.executable, "-c", WORKER, str(tmp_path)]),
        ]
        # Own session: the teardown can kill whatever is left, workers included, by this group's id.
        self.process = subprocess.Popen(
            command,
            env=child_env(),
            cwd=tmp_path,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def pids(self, prefix: str) -> set[int]:
        return {int(path.name.split("-")[1]) for path in self.dir.glob(f"{prefix}-*")}

    def running(self) -> set[int]:
        return {pid for pid in self.pids("started") if alive(pid)}

    def wait(self, timeout: float = 15) -> int:
        wait_for(lambda: self.process.poll() is not None, timeout, message="the supervisor to exit")
        return self.process.returncode

    def stderr(self) -> str:
        return self.process.communicate(timeout=5)[1].decode()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent has not reaped it yet).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def supervisor(tmp_path):
    started = []

    def start(*options: str, child: list[str] | None = None) -> Supervisor:
        started.append(Supervisor(tmp_path, *options, child=child))
        return started[-1]

    yield start
    for each in started:
        if each.process.poll() is None:
            os.killpg(each.process.pid, signal.SIGKILL)
            each.process.wait()
        for pid in each.running():  # workers that outlived a failed test
            os.kill(pid, signal.SIGKILL)


def test_workers_start_and_stop_on_sigterm(supervisor):
    sup = supervisor("--workers", "2")
    workers = wait_for(lambda: len(sup.running()) == 2 and sup.running(), message="two workers")
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0
    # Each worker got the SIGTERM and is gone.
    assert sup.pids("term") == workers
    assert not any(alive(pid) for pid in workers)


def test_sigint_is_passed_on_too(supervisor):
    sup = supervisor("--workers", "1")
    (worker,) = wait_for(sup.running, message="a worker")
    sup.process.send_signal(signal.SIGINT)
    assert sup.wait() == 0
    assert sup.pids("term") == {worker}


def test_a_worker_whose_drain_was_cut_ends_it_with_that_status(supervisor, tmp_path):
    # One worker says its graceful timeout cut requests and exits 5 (django_asgi.runtime.inflight), the other 0.
    first_cuts = textwrap.dedent(f"""
        try:
            os.close(os.open(os.path.join(here, "cut"), os.O_CREAT | os.O_EXCL))
            sys.exit({CUT})
        except FileExistsError:
            sys.exit(0)
    """)
    cut = WORKER.replace("    sys.exit(0)\n", textwrap.indent(first_cuts.strip(), " " * 4) + "\n")
    assert cut != WORKER
    sup = supervisor("--workers", "2", child=[sys.executable, "-c", cut, str(tmp_path)])
    workers = wait_for(lambda: len(sup.running()) == 2 and sup.running(), message="two workers")
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == CUT
    assert sup.pids("term") == workers


def test_exited_worker_is_replaced(supervisor):
    sup = supervisor("--workers", "2")
    first = wait_for(lambda: len(sup.running()) == 2 and sup.running(), message="two workers")
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    now = wait_for(
        lambda: len(sup.running()) == 2 and victim not in sup.running() and sup.running(),
        message="a replacement worker",
    )
    assert len(now - first) == 1 and victim not in now
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0
    assert f"worker {victim} exited with status -9; starting another" in sup.stderr()


def test_workers_that_fail_at_once_end_it(supervisor):
    sup = supervisor("--workers", "2", child=[sys.executable, "-c", "raise SystemExit(1)"])
    began = time.monotonic()
    assert sup.wait(timeout=10) == 1
    assert time.monotonic() - began < 5  # three quick failures, not a restart loop
    assert "workers keep failing at start (status 1); stopping" in sup.stderr()


def test_a_worker_that_cannot_load_the_app_ends_it_at_once(supervisor):
    # The import failure a worker reports once (django_asgi.runtime.boot): no second try, its status passed on.
    sup = supervisor("--workers", "2", child=[sys.executable, "-c", f"raise SystemExit({BOOT_ERROR})"])
    assert sup.wait(timeout=10) == BOOT_ERROR
    assert sup.stderr().count("workers cannot load the application; stopping") == 1
    assert "starting another" not in sup.stderr()


def test_command_not_found(supervisor):
    sup = supervisor("--workers", "2", child=["no-such-server-xyz"])
    assert sup.wait() == 127
    assert "cannot run 'no-such-server-xyz'" in sup.stderr()


# The worker reports what it inherited, then waits.
SOCKET_WORKER = textwrap.dedent("""
    import json, os, socket, sys, time
    sock = socket.socket(fileno=3)
    report = {"LISTEN_FDS": os.environ.get("LISTEN_FDS"), "LISTEN_FDNAMES": os.environ.get("LISTEN_FDNAMES"),
              "accepting": sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN),
              "type": int(sock.type), "address": sock.getsockname()}
    path = os.path.join(sys.argv[1], f"report-{os.getpid()}")
    partial = os.path.join(sys.argv[1], f"partial-{os.getpid()}")  # not matched by report-*
    with open(partial, "w") as out:
        json.dump(report, out)
    os.rename(partial, path)
    open(os.path.join(sys.argv[1], f"started-{os.getpid()}"), "w").close()
    while True:
        time.sleep(1)
""")


def test_listening_socket_on_fd_3(supervisor, tmp_path):
    sup = supervisor(
        "--workers", "2", "--bind", "127.0.0.1:0", child=[sys.executable, "-c", SOCKET_WORKER, str(tmp_path)]
    )
    wait_for(lambda: len(list(tmp_path.glob("report-*"))) == 2, message="two reports")
    reports = [json.loads(path.read_text()) for path in tmp_path.glob("report-*")]
    for report in reports:
        assert report["LISTEN_FDS"] == "1" and report["LISTEN_FDNAMES"] == "http"
        assert report["accepting"] == 1 and report["type"] == socket.SOCK_STREAM
    # One socket shared by both, really listening: a connection is accepted by the kernel.
    (host, port), other = reports[0]["address"], reports[1]["address"]
    assert host == "127.0.0.1" and port > 0 and other == [host, port]
    socket.create_connection((host, port), timeout=5).close()
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0


NO_SOCKET_WORKER = textwrap.dedent("""
    import json, os, sys, time
    try:
        os.fstat(3)
        fd3 = True
    except OSError:
        fd3 = False
    with open(os.path.join(sys.argv[1], "report.tmp"), "w") as out:
        json.dump({"LISTEN_FDS": os.environ.get("LISTEN_FDS"), "fd3": fd3}, out)
    os.rename(os.path.join(sys.argv[1], "report.tmp"), os.path.join(sys.argv[1], "report"))
    time.sleep(60)
""")


def test_no_socket_without_bind(supervisor, tmp_path):
    sup = supervisor("--workers", "1", child=[sys.executable, "-c", NO_SOCKET_WORKER, str(tmp_path)])
    report = wait_for(
        lambda: (tmp_path / "report").exists() and json.loads((tmp_path / "report").read_text()), message="the report"
    )
    assert report == {"LISTEN_FDS": None, "fd3": False}
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0


def test_cannot_listen(supervisor):
    sup = supervisor("--bind", "127.0.0.1:notaport")
    assert sup.wait() == 1
    assert "cannot listen on 127.0.0.1:notaport" in sup.stderr()


def test_reload_restarts_workers_when_a_py_file_changes(supervisor, tmp_path):
    views = tmp_path / "views.py"
    views.write_text("# v1\n")
    sup = supervisor("--workers", "1", "--reload", "restart", "--reload-interval", "0.1")
    (first,) = wait_for(sup.running, message="a worker")
    bumps = iter(range(1, 1000))

    def restarted():
        # The supervisor takes its first snapshot just after starting the worker: a change made before that
        # would go unseen, so keep changing the file until a new worker shows up.
        views.write_text(f"# v{next(bumps) + 1}\n")
        os.utime(views, ns=(time.time_ns() + next(bumps) * 10**9,) * 2)
        return sup.running() - {first}

    (_second,) = wait_for(restarted, interval=0.1, message="a restarted worker")
    assert first in sup.pids("term")  # stopped with SIGTERM, so it could drain
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0
    assert "views.py changed; reloading" in sup.stderr()


def test_workers_left_after_the_graceful_timeout_are_killed(supervisor, tmp_path):
    # The supervisor allows the graceful timeout and --kill-after (5 s), then SIGKILL; the run counts as failed.
    stubborn = (
        "import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        "open(os.path.join(sys.argv[1], f'started-{os.getpid()}'), 'w').close(); time.sleep(60)"
    )
    sup = supervisor(
        "--workers",
        "1",
        "--graceful-timeout",
        "0.1",
        "--kill-after",
        "0.2",
        child=[sys.executable, "-c", stubborn, str(tmp_path)],
    )
    (worker,) = wait_for(sup.running, message="a worker")
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait(timeout=15) == 1
    assert not alive(worker)
    assert "1 worker(s) still running after the graceful timeout; killing them" in sup.stderr()


def reloading(supervisor, child: str, tmp_path):
    """Two workers running `child`, restarted on a change, polled every 0.1 s."""
    return supervisor(
        "--workers", "2", "--reload", "restart", "--reload-interval", "0.1",
        child=[sys.executable, "-c", child, str(tmp_path)],
    )  # fmt: skip


def fix(state):
    """One edit (each further one would start another generation of workers), its mtime ahead of
    the broken file's whatever the filesystem's granularity."""
    state.write_text("# fixed\n")
    os.utime(state, ns=(time.time_ns() + 10**9,) * 2)


def test_reload_waits_for_a_fix_when_the_code_cannot_load(supervisor, tmp_path):
    # With --reload a broken edit must not end the container: the supervisor waits for the next change.
    (tmp_path / "state.py").write_text("broken\n")
    child = (
        textwrap.dedent(f"""
        import os, sys
        here = sys.argv[1]
        boot_id = os.environ["DJANGO_ASGI_BOOT_ID"]
        if "broken" in open(os.path.join(here, "state.py")).read():
            open(os.path.join(here, f"failed-{{os.getpid()}}"), "w").write(boot_id)
            sys.exit({BOOT_ERROR})
        open(os.path.join(here, f"booted-{{os.getpid()}}"), "w").write(boot_id)
    """)
        + WORKER
    )
    sup = reloading(supervisor, child, tmp_path)
    # Reaped (its pid gone): the supervisor is in its loop, waiting for a change.
    wait_for(lambda: any(not alive(pid) for pid in sup.pids("failed")), message="a worker failing to load, reaped")
    assert sup.process.poll() is None
    fix(tmp_path / "state.py")
    wait_for(lambda: len(sup.running()) == 2, message="two workers after the fix")
    failed_ids = {(tmp_path / f"failed-{pid}").read_text() for pid in sup.pids("failed")}
    booted_ids = {(tmp_path / f"booted-{pid}").read_text() for pid in sup.pids("booted")}
    # Workers started after the change report a failure afresh: a new boot id.
    assert len(booted_ids) == 1 and not booted_ids & failed_ids
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0
    assert sup.stderr().count("workers cannot load the application; waiting for a change") == 1


def test_a_worker_that_fails_after_the_fix_is_replaced_not_obeyed(supervisor, tmp_path):
    # A worker of the broken code can fail after the fix (its import began before it): the new
    # workers must keep serving, not be stopped for its failure.
    (tmp_path / "state.py").write_text("broken\n")
    child = (
        textwrap.dedent(f"""
        import os, signal, sys, time
        here = sys.argv[1]
        state = os.path.join(here, "state.py")
        if "broken" in open(state).read():
            try:
                os.close(os.open(os.path.join(here, "first"), os.O_CREAT | os.O_EXCL))
                # Fails once the other is deaf to the stop this failure brings.
                while not any(name.startswith("straggler-") for name in os.listdir(here)):
                    time.sleep(0.02)
                open(os.path.join(here, f"failed-{{os.getpid()}}"), "w").close()
            except FileExistsError:  # the other: deaf to the stop, fails once a new worker started
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                open(os.path.join(here, f"straggler-{{os.getpid()}}"), "w").close()
                while not any(name.startswith("started-") for name in os.listdir(here)):
                    time.sleep(0.02)
            sys.exit({BOOT_ERROR})
    """)
        + WORKER
    )
    sup = reloading(supervisor, child, tmp_path)
    # The first fails only once the straggler is there.
    wait_for(lambda: any(not alive(pid) for pid in sup.pids("failed")), message="the first failure reaped")
    (straggler,) = sup.pids("straggler")
    fix(tmp_path / "state.py")
    wait_for(lambda: not alive(straggler), message="the straggler failing")
    wait_for(lambda: len(sup.running()) == 2, message="two workers after the fix")
    sup.process.send_signal(signal.SIGTERM)
    assert sup.wait() == 0
    assert sup.stderr().count("workers cannot load the application; waiting for a change") == 1
