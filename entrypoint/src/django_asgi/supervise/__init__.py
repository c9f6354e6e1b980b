"""`python -m django_asgi.supervise [options] -- COMMAND...`: a small process manager.

For servers that lack one (daphne) or whose own is unsafe (hypercorn): runs
--workers copies of COMMAND sharing one listening socket on fd 3 (passed the
systemd way: LISTEN_FDS=1), replaces a worker that exits, passes SIGTERM and
SIGINT on so every worker drains, and kills what is left after the graceful
timeout (and --kill-after seconds more). Workers whose graceful timeout cut requests say how many and end
with django_asgi.runtime.inflight.CUT, which it ends with too. A worker that cannot
load the application (django_asgi.runtime.boot.BOOT_ERROR) ends it with that status;
workers that keep failing right after they start end it with status 1: a
broken app fails the container instead of looping for ever.

With --reload it polls the working directory's .py files (django_asgi.supervise.watch)
and on a change either sends SIGHUP (servers that reload themselves) or
restarts the workers; when the edited code fails, it waits for the next change
instead of stopping.
"""

import argparse
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django_asgi.runtime.boot import BOOT_ERROR, BOOT_ID, new_id
from django_asgi.runtime.inflight import CUT
from django_asgi.supervise import watch

LISTEN_FD = 3
QUICK_EXIT = 5.0  # seconds: a worker failing sooner than this did not really start
GIVE_UP_AFTER = 3  # consecutive quick failures
KILL_AFTER = 5.0  # seconds past the graceful timeout before workers still running are killed


def log(message: str) -> None:
    print(f"django-asgi supervise: {message}", file=sys.stderr, flush=True)


def listen(bind: str) -> socket.socket:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6 and host == "::":
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # dual-stack, like the other servers
    sock.bind((host, int(port)))
    sock.listen(2048)
    if sock.fileno() != LISTEN_FD:
        os.dup2(sock.fileno(), LISTEN_FD)
        sock.close()
        sock = socket.socket(fileno=LISTEN_FD)
    os.set_inheritable(LISTEN_FD, True)
    return sock


class Supervisor:
    def __init__(
        self,
        command: list[str],
        workers: int,
        graceful_timeout: float,
        with_socket: bool,
        reload: str | None,
        kill_after: float = KILL_AFTER,
        reload_interval: float = watch.INTERVAL,
    ) -> None:
        self.command = command
        self.workers = workers
        self.graceful_timeout = graceful_timeout
        self.kill_after = kill_after
        self.reload_interval = reload_interval
        self.reload = reload
        self.env = dict(os.environ)
        self.pass_fds: tuple[int, ...] = ()
        if with_socket:
            self.env.update(LISTEN_FDS="1", LISTEN_FDNAMES="http")
            self.pass_fds = (LISTEN_FD,)
        self.children: dict[int, tuple[subprocess.Popen, float]] = {}
        self.replaced: set[int] = set()  # pids stopped on purpose (reload), not failures
        self.quick_failures = 0
        self.stopping = False
        self.waiting = False  # --reload: the code fails; start again at the next change
        self.status = 0
        self.boot_id = os.environ.get(BOOT_ID) or new_id()
        self.generation = 0
        self.env[BOOT_ID] = self.boot_id

    def next_generation(self) -> None:
        """Workers started from here on report an import failure afresh (once for all of them)."""
        self.generation += 1
        self.env[BOOT_ID] = f"{self.boot_id}.{self.generation}"

    def spawn(self) -> None:
        process = subprocess.Popen(self.command, env=self.env, pass_fds=self.pass_fds)
        self.children[process.pid] = (process, time.monotonic())

    def signal_all(self, signum: int) -> None:
        for process, _ in self.children.values():
            try:
                process.send_signal(signum)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        for pid, (process, started) in list(self.children.items()):
            status = process.poll()
            if status is None:
                continue
            del self.children[pid]
            if self.stopping:
                if status == CUT and self.status in (0, CUT):
                    self.status = CUT  # the worker said how many requests its graceful timeout cut
                elif status not in (0, -signal.SIGTERM, CUT) and self.status in (0, CUT):
                    self.status = 1
                continue
            if pid in self.replaced:
                self.replaced.discard(pid)
            elif status == BOOT_ERROR or (status != 0 and time.monotonic() - started < QUICK_EXIT):
                self.quick_failures += 1
                if status == BOOT_ERROR or self.quick_failures >= GIVE_UP_AFTER:
                    self.give_up(status)
                    continue
            else:
                self.quick_failures = 0
            if self.waiting:
                continue
            log(f"worker {pid} exited with status {status}; starting another")
            self.spawn()

    def give_up(self, status: int) -> None:
        reason = "cannot load the application" if status == BOOT_ERROR else f"keep failing at start (status {status})"
        if self.reload:
            if not self.waiting:
                log(f"workers {reason}; waiting for a change")
            self.waiting = True
            self.signal_all(signal.SIGTERM)
            return
        log(f"workers {reason}; stopping")
        self.status = BOOT_ERROR if status == BOOT_ERROR else 1
        self.stop()

    def stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.deadline = time.monotonic() + self.graceful_timeout + self.kill_after
            self.signal_all(signal.SIGTERM)

    def restart(self) -> None:
        self.next_generation()
        if self.waiting:
            self.waiting = False
            self.quick_failures = 0
            # Those still stopping ran the broken code: their failure is no verdict on the new one,
            # and each is replaced as it ends.
            self.replaced.update(self.children)
            for _ in range(self.workers - len(self.children)):
                self.spawn()
            return
        if self.reload == "HUP":
            self.signal_all(signal.SIGHUP)
            return
        self.replaced.update(self.children)
        self.signal_all(signal.SIGTERM)

    def run(self) -> int:
        wake_read, wake_write = os.pipe()
        os.set_blocking(wake_read, False)
        os.set_blocking(wake_write, False)
        signal.set_wakeup_fd(wake_write)
        pending: list[int] = []
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, lambda number, frame: pending.append(number))
        try:
            for _ in range(self.workers):
                self.spawn()
        except OSError as error:
            log(f"cannot run {self.command[0]!r}: {error.strerror}")
            self.stop()
            self.status = 127
        watcher = watch.Watcher(Path.cwd(), time.monotonic(), self.reload_interval) if self.reload else None
        while self.children or not self.stopping:
            select.select([wake_read], [], [], 0.5)
            try:
                os.read(wake_read, 512)
            except BlockingIOError:
                pass
            while pending:
                signum = pending.pop(0)
                if signum in (signal.SIGTERM, signal.SIGINT):
                    self.stop()
                elif signum == signal.SIGHUP and not self.stopping:
                    self.restart()
            self.reap()
            now = time.monotonic()
            if self.stopping and self.children and now > self.deadline:
                log(f"{len(self.children)} worker(s) still running after the graceful timeout; killing them")
                self.signal_all(signal.SIGKILL)
                self.status = 1
                self.deadline = float("inf")
            if watcher is not None and not self.stopping:
                changed = watcher.changed(now)
                if changed is not None:
                    log(f"{changed} changed; reloading")
                    self.restart()
        return self.status


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m django_asgi.supervise", allow_abbrev=False)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--graceful-timeout", type=float, default=20.0)
    parser.add_argument("--bind", help="host:port of a socket to listen on and pass to the workers as fd 3")
    parser.add_argument("--reload", choices=("restart", "HUP"))
    parser.add_argument("--kill-after", type=float, default=KILL_AFTER, help="seconds past the graceful timeout")
    parser.add_argument("--reload-interval", type=float, default=watch.INTERVAL, help="seconds between polls")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    try:
        # Held open here for as long as the workers run.
        listening = listen(args.bind) if args.bind else None
    except (OSError, ValueError) as error:
        log(f"cannot listen on {args.bind}: {error}")
        return 1
    try:
        supervisor = Supervisor(
            command,
            args.workers,
            args.graceful_timeout,
            bool(args.bind),
            args.reload,
            args.kill_after,
            args.reload_interval,
        )
        return supervisor.run()
    finally:
        if listening is not None:
            listening.close()
