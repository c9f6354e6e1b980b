"""A stop that comes while the application still loads ends the process with status 0, as a drain would.

daphne and hypercorn set their SIGTERM and SIGINT handlers only once the application is loaded
(daphne's Server.run, hypercorn's worker_serve). A signal before that (Kubernetes stopping a pod
that is still starting) found Python's defaults: killed by SIGTERM (status 143), a traceback for
SIGINT. The servers' own handlers replace this one when they start serving.
"""

import signal


class Stopped(SystemExit):
    """Asked to stop before serving: nothing served, nothing to drain (django_asgi.runtime.boot lets it
    through: it is no failure to load the app)."""


def _stop(signum, frame):
    raise Stopped(0)


def until_serving() -> None:
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, _stop)
