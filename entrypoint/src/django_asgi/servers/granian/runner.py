"""granian, with the exit status of its drain: `python -m django_asgi.servers.granian.runner [granian's arguments]`.

granian's main process kills workers still running at --workers-kill-timeout and exits 0. Its
workers (django_asgi.servers.granian.worker) leave a count of the requests they were still serving; after
granian returns, this exits with status 5 when there were any (django_asgi.runtime.inflight).
Only the granian image runs it.
"""

import sys

from django_asgi.runtime import inflight


def main() -> int:
    import multiprocessing

    from granian.cli import entrypoint

    # granian starts its workers with multiprocessing's default method (granian/server/mp.py): fork up to
    # Python 3.13, forkserver from 3.14, which spawned each worker afresh beside a resource-tracker process.
    # Forked on every Python: one process tree, and workers that start as they always did.
    multiprocessing.set_start_method("fork")

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
