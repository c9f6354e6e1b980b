"""Server mappings: one module per server, each turning a Config into a Plan.

A module here is a server: it defines DISTRIBUTION (the package whose version
the summary line reports) and plan(config, app) -> Plan. Adding a server is
adding a module.
"""

import importlib
import pkgutil
import sys
from dataclasses import dataclass, field

from django_asgi.errors import ConfigError
from django_asgi.settings import Config

# Serves the user's app with lifespan answered and trusted proxy headers applied.
WRAPPER_APP = "django_asgi.asgi:application"


@dataclass(frozen=True)
class Plan:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)  # added to the server's environment


def names() -> tuple[str, ...]:
    return tuple(sorted(info.name for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")))


def load(name: str):
    if name not in names():
        raise ConfigError("DJANGO_ASGI_SERVER", name, f"expected one of {', '.join(names())}")
    return importlib.import_module(f"{__name__}.{name}")


def host_port(config: Config) -> str:
    """host:port, with brackets around IPv6 addresses."""
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"{host}:{config.port}"


def refuse(config: Config, variable: str, reason: str) -> None:
    """A variable this server cannot honour is an error when set, never ignored."""
    if variable in config.given:
        raise ConfigError(variable, config.given[variable], reason)


def wrapped(config: Config, app: str, lifespan: bool) -> tuple[str, dict[str, str]]:
    """The app target and environment that route through django_asgi.asgi when needed."""
    if not lifespan and not config.forwarded_allow_ips:
        return app, {}
    env = {"DJANGO_ASGI_APP": app}
    if config.forwarded_allow_ips:
        env["FORWARDED_ALLOW_IPS"] = ",".join(config.forwarded_allow_ips)
    return WRAPPER_APP, env


def supervised(config: Config, child: list[str], *, workers: int, socket: bool, reload_signal: str = "") -> list[str]:
    """Run child under django_asgi.supervise (several processes, one socket, respawn, reload)."""
    argv = [sys.executable, "-m", "django_asgi.supervise", "--workers", str(workers),
            "--graceful-timeout", str(config.graceful_timeout)]
    if socket:
        argv += ["--bind", host_port(config)]
    if config.reload:
        argv += ["--reload", reload_signal or "restart"]
    return [*argv, "--", *child]
