"""Server mappings: one module per server, each turning a Config into a Plan.

A module here is a server: it defines DISTRIBUTIONS (the packages whose versions
the summary line reports), PATCHES (django_asgi.patching), plan(config, app, extra)
-> Plan and check_arguments(args), which runs the server's own parser over extra
flags. Adding a server is adding a module.
"""

import importlib
import os
import sys

from django_asgi.errors import ConfigError, StartRefused
from django_asgi.settings import Config

# Every server loads the user's app through this (django_asgi.asgi).
WRAPPER_APP = "django_asgi.asgi:application"
# The peers whose X-Forwarded-* headers the wrapper applies.
TRUSTED_PROXIES = "DJANGO_ASGI_TRUSTED_PROXIES"
# The limits the wrapper (and the patched servers) apply, in bytes.
MAX_BODY = "DJANGO_ASGI_MAX_BODY"
MAX_MESSAGE = "DJANGO_ASGI_MAX_MESSAGE"
# The request head (request line and headers) every flavor takes, in bytes; a larger one gets 431
# (granian: 414 or 431 for a long request line), however the bytes arrive.
HEAD_LIMIT = 64 * 1024
# Set for a server whose own head limit depends on how the head arrives (granian): the wrapper
# applies HEAD_LIMIT to what it let through.
MAX_HEAD = "DJANGO_ASGI_MAX_HEAD"
# Seconds a worker has to finish its requests once told to stop, for a worker that cannot read it
# from its server's configuration (granian's).
GRACEFUL_TIMEOUT = "DJANGO_ASGI_GRACEFUL_TIMEOUT"
# The header (lower-case) the trusted proxies set to the client's address.
CLIENT_IP_HEADER = "DJANGO_ASGI_CLIENT_IP_HEADER"


class Plan:
    """The command to exec, and what it adds to the environment."""

    __slots__ = ("argv", "env")

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.env = env or {}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Plan) and (self.argv, self.env) == (other.argv, other.env)

    def __repr__(self) -> str:
        return f"Plan({self.argv!r}, {self.env!r})"


def names() -> tuple[str, ...]:
    # A directory listing, not pkgutil: this runs at every container start.
    return tuple(
        sorted(name[:-3] for name in os.listdir(__path__[0]) if name.endswith(".py") and not name.startswith("_"))
    )


def load(name: str):
    if name not in names():
        raise ConfigError("DJANGO_ASGI_SERVER", name, f"expected one of {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


def versions(name: str) -> list[str]:
    """'distribution version' for each package the server's module names."""
    return [f"{distribution} {installed(distribution)}" for distribution in load(name).DISTRIBUTIONS]


def installed(distribution: str) -> str:
    """The installed version of a distribution (a project's requirements may have replaced the image's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return "(not installed)"


def check_arguments(config: Config, extra: tuple[str, ...] | list[str]) -> None:
    """Extra flags (SERVER_ARGS, then those after the image name) the server's parser refuses stop the
    start with one line. Without the server installed there is nothing to ask (its command then fails)."""
    args = [*config.server_args, *extra]
    if not args:
        return
    from django_asgi.arguments import Refused

    server = load(config.server)
    try:
        server.check_arguments(args)
    except ModuleNotFoundError as error:
        if (error.name or "").partition(".")[0] not in server.DISTRIBUTIONS:
            raise
    except Refused as error:
        import shlex

        raise StartRefused(f"{config.server} refuses the server flags {shlex.join(args)!r}: {error}") from None


def host_port(config: Config) -> str:
    """host:port, with brackets around IPv6 addresses."""
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"{host}:{config.port}"


def refuse(config: Config, variable: str, reason: str) -> None:
    """A variable this server cannot honour is an error when set, never ignored."""
    if variable in config.given:
        raise ConfigError(variable, config.given[variable], reason)


def served(config: Config, app: str) -> tuple[str, dict[str, str]]:
    """The app target and environment: the user's app through django_asgi.asgi, which applies
    FORWARDED_ALLOW_IPS and the limits the same way for every server."""
    env = {
        "DJANGO_ASGI_APP": app,
        MAX_BODY: str(config.max_request_body),
        MAX_MESSAGE: str(config.max_websocket_message),
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
