"""The pieces of the servers' commands that several servers share: the Plan, and the flags and
environment every server (or several) gets from the Config."""

from __future__ import annotations

import sys

from django_asgi.errors import ConfigError
from django_asgi.runtime.handoff import (
    BODY_TIMEOUT,
    CLIENT_IP_HEADER,
    MAX_BODY,
    MAX_MESSAGE,
    TRUSTED_PROXIES,
    WRAPPER_APP,
)

TYPE_CHECKING = False  # typing costs milliseconds at every container start
if TYPE_CHECKING:
    from django_asgi.contract import Config


class Plan:
    """The server's command (a `python -m` command, which the entrypoint runs in its own process),
    and what it adds to the environment."""

    __slots__ = ("argv", "env")

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.env = env or {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and (self.argv, self.env) == (other.argv, other.env)

    def __repr__(self) -> str:
        return f"Plan({self.argv!r}, {self.env!r})"


def host_port(config: Config) -> str:
    """host:port, with brackets around IPv6 addresses."""
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"{host}:{config.port}"


def refuse(config: Config, variable: str, reason: str) -> None:
    """A variable this server cannot honour is an error when set, never ignored."""
    if variable in config.raw:
        raise ConfigError(variable, config.raw[variable], reason)


def wrapped_app(config: Config, app: str) -> tuple[str, dict[str, str]]:
    """What the server loads (django_asgi.runtime.asgi) and the environment that tells it the user's app, the
    trusted proxies and the limits, which it applies the same way for every server."""
    env = {
        "DJANGO_ASGI_APP": app,
        MAX_BODY: str(config.max_request_body),
        MAX_MESSAGE: str(config.max_websocket_message),
        BODY_TIMEOUT: str(config.body_timeout),
    }
    if config.forwarded_allow_ips:
        env[TRUSTED_PROXIES] = ",".join(config.forwarded_allow_ips)
        if config.client_ip_header:
            env[CLIENT_IP_HEADER] = config.client_ip_header.lower()
    return WRAPPER_APP, env


def gunicorn_style(config: Config) -> list[str]:
    """The flags gunicorn and hypercorn spell alike (hypercorn's command line follows gunicorn's)."""
    # fmt: off
    return [
        "--log-level", config.log_level,
        "--error-logfile", "-",
        *(["--access-logfile", "-"] if config.access_log else []),
        "--graceful-timeout", str(config.graceful_timeout),
        "--keep-alive", str(config.keep_alive),
    ]
    # fmt: on


def supervised(config: Config, child: list[str], *, workers: int, socket: bool, reload_signal: str = "") -> list[str]:
    """Run child under django_asgi.supervise (several processes, one socket, respawn, reload)."""
    argv = [
        sys.executable,
        "-m",
        "django_asgi.supervise",
        "--workers",
        str(workers),
        "--graceful-timeout",
        str(config.graceful_timeout),
    ]
    if socket:
        argv += ["--bind", host_port(config)]
    if config.reload:
        argv += ["--reload", reload_signal or "restart"]
    return [*argv, "--", *child]
