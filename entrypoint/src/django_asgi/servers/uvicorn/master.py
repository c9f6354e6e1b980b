"""gunicorn's master, with the exit status of its drain: `python -m django_asgi.servers.uvicorn.master
[gunicorn's arguments]`.

gunicorn's arbiter kills workers still running at --graceful-timeout and exits 0. The workers
(django_asgi.servers.uvicorn.worker) leave a count of the requests they were still serving; here
gunicorn exits with status 5 when there were any (django_asgi.runtime.inflight).
"""

from django_asgi.runtime import inflight
from django_asgi.runtime.patching import replace


def _halt(original):
    def halt(self, reason=None, exit_status=0):
        # gunicorn/arbiter.py halt: stop() waits for the workers (killing them at the graceful
        # timeout), then sys.exit(exit_status), 0 on SIGTERM even when requests were cut.
        try:
            original(self, reason, exit_status)
        except SystemExit as stop:
            raise SystemExit(inflight.exit_status(inflight.collect(), stop.code or 0)) from None

    return halt


def install_patches() -> None:
    from gunicorn.arbiter import Arbiter

    # Not upstream: exit status 5 for cut requests is this image's contract; gunicorn exits 0 by design.
    replace(Arbiter, "halt", ("self", "reason", "exit_status"), _halt, "gunicorn",
            "gunicorn/arbiter.py exits 0 after killing workers at the graceful timeout")  # fmt: skip


def main() -> None:
    install_patches()
    # gunicorn/__main__.py: the name its usage and errors give.
    from gunicorn.app.wsgiapp import run

    run(prog="gunicorn")


if __name__ == "__main__":
    main()
