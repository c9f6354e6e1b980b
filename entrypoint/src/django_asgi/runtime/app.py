"""Loading the user's app in a worker: load() imports the app named by DJANGO_ASGI_APP (a failure
is reported once and ends the worker with django_asgi.runtime.boot.BOOT_ERROR) and wraps it
(django_asgi.runtime.wrapper). django_asgi.runtime.asgi calls it; a server that needs a hook in its
workers gives them a module of its own, in its folder, that calls it."""

import logging
import os

from django_asgi.runtime import collector
from django_asgi.runtime.boot import load_or_exit
from django_asgi.runtime.handoff import (
    BODY_TIMEOUT,
    CLIENT_IP_HEADER,
    MAX_BODY,
    MAX_HEAD,
    MAX_MESSAGE,
    TRUSTED_PROXIES,
    limit,
)
from django_asgi.runtime.wrapper import OpenWebSockets, TrustedProxies, wrap


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


def load(websockets: OpenWebSockets | None = None, answer_cut_bodies: bool = False):
    """The user's app (DJANGO_ASGI_APP), wrapped with the limits and proxies the entrypoint handed over.
    websockets: where the wrapper records accepted WebSockets, for a server hook that closes them;
    answer_cut_bodies: for a server that answers 500 when a body it cut got no response (wrapper.wrap)."""
    collector.pause()  # while the app is imported (django_asgi.runtime.collector)
    app = wrap(
        _load_keeping_server_logs(os.environ["DJANGO_ASGI_APP"]),
        TrustedProxies(os.environ.get(TRUSTED_PROXIES, "")),
        max_body=limit(MAX_BODY),
        max_message=limit(MAX_MESSAGE),
        client_ip_header=os.environ.get(CLIENT_IP_HEADER, "").encode() or None,
        websockets=websockets,
        max_head=limit(MAX_HEAD),
        answer_cut_bodies=answer_cut_bodies,
        body_timeout=limit(BODY_TIMEOUT),
    )
    collector.resume()
    return app
