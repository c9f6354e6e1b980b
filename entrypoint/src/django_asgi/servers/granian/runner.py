"""granian, with the exit status of its drain: `python -m django_asgi.servers.granian.runner [granian's arguments]`.

granian's main process kills workers still running at --workers-kill-timeout and exits 0. Its
workers (django_asgi.servers.granian.worker) leave a count of the requests they were still serving; after
granian returns, this exits with status 5 when there were any (django_asgi.runtime.inflight).
Only the granian image runs it.
"""

import sys

from django_asgi.runtime import inflight


def main() -> int:
    from granian.cli import entrypoint

    from django_asgi.servers.granian.worker import install_main_patches

    install_main_patches()
    sys.argv[0] = "granian"  # the name its usage and errors give
    try:
        entrypoint()
        status = 0
    except SystemExit as stop:
        if not isinstance(stop.code, int | None):
            raise
        status = stop.code or 0
    return inflight.exit_status(inflight.collect(), status)


if __name__ == "__main__":
    sys.exit(main())
