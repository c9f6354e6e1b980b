"""What the entrypoint hands the servers' workers: the app they load, the environment variables
they read, and the limits they apply. Imported in every worker, so it imports nothing but os (which
every Python has loaded before it runs a line)."""

import os

# Every server loads the user's app through this (django_asgi.runtime.asgi).
WRAPPER_APP = "django_asgi.runtime.asgi:application"
# The peers whose X-Forwarded-* headers the wrapper applies.
TRUSTED_PROXIES = "DJANGO_ASGI_TRUSTED_PROXIES"
# The header (lower-case) the trusted proxies set to the client's address.
CLIENT_IP_HEADER = "DJANGO_ASGI_CLIENT_IP_HEADER"
# The limits the wrapper (and the patched servers) apply, in bytes.
MAX_BODY = "DJANGO_ASGI_MAX_BODY"
MAX_MESSAGE = "DJANGO_ASGI_MAX_MESSAGE"
# The longest wait for the next bytes of a request body, in seconds (BODY_TIMEOUT).
BODY_TIMEOUT = "DJANGO_ASGI_BODY_TIMEOUT"
# The request head (request line and headers) every flavor takes, in bytes; a larger one gets 431
# (granian: 414 or 431 for a long request line), however the bytes arrive.
HEAD_LIMIT = 64 * 1024
# A chunk line (size and extensions) of a chunked request body, in bytes; a longer one gets 400 (granian's
# hyper: 16 KiB of extensions in a body; daphne's Twisted: a line over 1 KiB).
CHUNK_LINE_LIMIT = 16 * 1024
# Set for a server whose own head limit depends on how the head arrives (granian): the wrapper
# applies HEAD_LIMIT to what it let through.
MAX_HEAD = "DJANGO_ASGI_MAX_HEAD"
# Seconds a worker has to finish its requests once told to stop, for a worker that cannot read it
# from its server's configuration (granian's).
GRACEFUL_TIMEOUT = "DJANGO_ASGI_GRACEFUL_TIMEOUT"


def limit(name: str) -> int | None:
    """A limit the entrypoint handed over (one of the names above), in bytes or seconds; None when unset."""
    value = os.environ.get(name, "")
    return int(value) if value.isdigit() else None
