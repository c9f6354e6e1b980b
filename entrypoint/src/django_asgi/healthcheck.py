"""`django-asgi healthcheck`: is the local server answering HTTP? (No curl in the image.)"""

import http.client
from collections.abc import Mapping

from django_asgi import contract
from django_asgi.errors import ConfigError

# A wildcard bind is reached through loopback; every server's :: is dual-stack.
_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "127.0.0.1"}


def main(env: Mapping[str, str]) -> int:
    try:
        config = contract.load(env, only=("PORT", "HOST", "HEALTHCHECK_PATH"))
        port, host, path = config.port, _LOOPBACK.get(config.host, config.host), config.healthcheck_path
    except ConfigError as error:
        print(error.line(), flush=True)
        return 1
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        # "localhost" passes Django's ALLOWED_HOSTS when DEBUG is on; any answer
        # below 500 (a 400 for a disallowed host included) shows the server is up.
        connection.request("GET", path, headers={"Host": "localhost", "User-Agent": "django-asgi-healthcheck"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:  # HTTPException: not HTTP on that port
        print(f"unhealthy: {host}:{port}: {error}", flush=True)
        return 1
    finally:
        connection.close()
    healthy = status < 500
    print(f"{'healthy' if healthy else 'unhealthy'}: GET {path} answered {status}", flush=True)
    return 0 if healthy else 1
