"""The application every flavor's server loads, as django_asgi.asgi:application.

Importing this module imports the app named by DJANGO_ASGI_APP (a failure is
reported once and ends the worker with django_asgi.boot.BOOT_ERROR) and wraps it
(django_asgi.wrapper). Only servers import it: hypercorn looks the attribute up
in the module's namespace, so it must exist at import time.
"""

import logging
import os
import sys

from django_asgi import collector
from django_asgi.boot import load_or_exit
from django_asgi.handoff import CLIENT_IP_HEADER, MAX_BODY, MAX_HEAD, MAX_MESSAGE, TRUSTED_PROXIES
from django_asgi.wrapper import TrustedProxies, wrap


def _load_keeping_server_logs(target: str):
    """Import the app; loggers the server set up before stay on.

    Django applies the project's LOGGING while the app is imported, and a
    "disable_existing_loggers": True (as Django's documentation shows it) turns
    off every logger that exists by then: the server's access and error logs.
    """
    enabled = [logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    enabled = [logger for logger in enabled if not logger.disabled]
    app = load_or_exit(target)
    for logger in enabled:
        logger.disabled = False
    return app


def _limit(name: str) -> int | None:
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None


collector.pause()  # while the app is imported (django_asgi.collector)

# granian drops open WebSockets on stop without a close frame: its workers get a stop hook that closes them.
_websockets = None
if "granian" in sys.modules:
    from django_asgi import granian_worker
    from django_asgi.wrapper import OpenWebSockets

    _websockets = OpenWebSockets()
    granian_worker.install_patches(_websockets)

application = wrap(
    _load_keeping_server_logs(os.environ["DJANGO_ASGI_APP"]),
    TrustedProxies(os.environ.get(TRUSTED_PROXIES, "")),
    max_body=_limit(MAX_BODY),
    max_message=_limit(MAX_MESSAGE),
    client_ip_header=os.environ.get(CLIENT_IP_HEADER, "").encode() or None,
    websockets=_websockets,
    max_head=_limit(MAX_HEAD),
)
collector.resume()
