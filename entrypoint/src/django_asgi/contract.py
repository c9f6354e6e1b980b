"""The environment contract: every variable the entrypoint reads, in one table.

The README's variable reference is made from VARIABLES (docs/tables.py) and
checked against it, so the two cannot drift apart.
"""

from __future__ import annotations

from django_asgi import parsers, servers
from django_asgi.errors import ConfigError

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


TYPE_CHECKING = False  # typing costs milliseconds at every container start
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any


class Variable:
    __slots__ = ("default", "example", "help", "name", "parse", "shown_default")

    def __init__(
        self,
        name: str,
        shown_default: str,
        example: str,
        help: str,
        parse: Callable[[str, str], Any],
        default: Any = None,
    ) -> None:
        self.name = name
        self.shown_default = shown_default  # the default as the README says it
        self.example = example
        self.help = help
        self.parse = parse
        self.default = default  # the parsed value when unset


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DJANGO_ASGI_SERVER",
        "set by each image",
        "granian",
        f"The server to run: {', '.join(servers.names()[:-1])} or {servers.names()[-1]} "
        "(the tag table says what each is).",
        lambda n, r: parsers.choice(n, r, servers.names()),
    ),
    Variable(
        "DJANGO_ASGI_APP",
        "derived",
        "mysite.asgi:application",
        "The ASGI application as module.path:attribute (attribute defaults to application). "
        "Unset: <package>.asgi:application for the nearest package of DJANGO_SETTINGS_MODULE holding an asgi.py, "
        "else Django's own ASGI handler for those settings (all an asgi.py does); without DJANGO_SETTINGS_MODULE, "
        "the single */asgi.py in the working directory, else the built-in default app.",
        parsers.app_path,
    ),
    Variable(
        "HOST",
        "0.0.0.0",
        "::",
        "Address to bind; :: listens on IPv6 and IPv4 (Fly.io's private network needs it).",
        parsers.host,
        "0.0.0.0",
    ),
    Variable("PORT", "8000", "8080", "TCP port to listen on.", lambda n, r: parsers.integer(n, r, 1, 65535), 8000),
    Variable(
        "WORKERS",
        "CPUs available",
        "4",
        "Worker processes. Unset: WEB_CONCURRENCY if set, else the CPUs this container may use "
        "(CFS quota rounded up, so --cpus 1.5 gives 2; CPU affinity; CPU count; the smallest).",
        lambda n, r: parsers.integer(n, r, 1, 1024),
    ),
    Variable(
        "WEB_CONCURRENCY",
        "unset",
        "2",
        "Worker processes when WORKERS is unset (the Heroku and Fly.io convention).",
        lambda n, r: parsers.integer(n, r, 1, 1024),
    ),
    Variable(
        "LOG_LEVEL",
        "info",
        "warning",
        "Server log level: debug, info, warning, error or critical.",
        lambda n, r: parsers.choice(n, r, LOG_LEVELS),
        "info",
    ),
    Variable(
        "ACCESS_LOG", "1", "0", "Log one line per request to stdout, whatever LOG_LEVEL says.", parsers.boolean, True
    ),
    Variable(
        "FORWARDED_ALLOW_IPS",
        "unset (trust no proxy; * on Fly.io)",
        "10.0.0.0/8",
        "Proxies whose X-Forwarded-For and X-Forwarded-Proto headers are trusted: a comma-separated list of "
        "addresses and networks (the client is the right-most X-Forwarded-For entry not in it), or * "
        "(exactly the peer is trusted: the client is the right-most entry). Unset with FLY_APP_NAME set "
        "(every Fly.io machine): *.",
        parsers.networks,
        (),
    ),
    Variable(
        "CLIENT_IP_HEADER",
        "unset (Fly-Client-IP on Fly.io)",
        "Fly-Client-IP",
        "A header the trusted proxies set to the client's address themselves, used instead of "
        "X-Forwarded-For. Unset with FLY_APP_NAME set: Fly-Client-IP.",
        parsers.header_name,
    ),
    Variable(
        "GRACEFUL_TIMEOUT",
        "20",
        "30",
        "Seconds in-flight requests get to finish after SIGTERM or SIGINT; those still running then are cut, "
        "and the exit status is 5.",
        lambda n, r: parsers.integer(n, r, 1, 3600),
        20,
    ),
    Variable(
        "KEEP_ALIVE",
        "5",
        "30",
        "Seconds a connection may stay silent: idle between requests, before its first request, or "
        "(granian, uvicorn) before its request head is complete. granian: at most 60.",
        lambda n, r: parsers.integer(n, r, 1, 3600),
        5,
    ),
    Variable(
        "MAX_REQUESTS",
        "unset (never)",
        "10000",
        "Replace a worker after this many requests, counted per request however the connections are kept "
        "(hypercorn, which serves one more; uvicorn, plus up to a tenth at random so workers are not replaced "
        "together); refused by servers that cannot.",
        lambda n, r: parsers.integer(n, r, 1, 100_000_000),
    ),
    Variable(
        "MAX_REQUEST_BODY",
        "100M",
        "20M",
        "Largest request body in bytes (K, M, G for KiB, MiB, GiB). A larger Content-Length is answered "
        "413 before the body is read; a chunked body is cut with 413 where it passes the limit.",
        parsers.size,
        100 * 1024**2,
    ),
    Variable(
        "MAX_WEBSOCKET_MESSAGE",
        "1M",
        "16M",
        "Largest WebSocket message in bytes (K, M, G as above), all its frames together; a larger one "
        "closes the connection with 1009.",
        parsers.size,
        1024**2,
    ),
    Variable(
        "RELOAD",
        "0",
        "1",
        "Development: restart the server when a .py file under the working directory changes.",
        parsers.boolean,
        False,
    ),
    Variable(
        "SERVER_ARGS",
        "empty",
        "--workers-lifetime 3600",
        "Extra server flags, split like a shell would; each server has its own (the example is granian's). "
        "The server's own parser checks them before anything starts (0.04 to 0.3 s, only when flags are given): "
        "a flag or value it refuses is one line and exit 2.",
        parsers.arguments,
        (),
    ),
    Variable(
        "HEALTHCHECK_PATH",
        "/",
        "/healthz",
        "Path that django-asgi healthcheck requests; any answer below 500 counts as healthy.",
        parsers.url_path,
        "/",
    ),
    Variable(
        "DJANGO_MIGRATE",
        "0",
        "1",
        "Run migrate --noinput before serving: python manage.py in the working directory, "
        "else python -m django with DJANGO_SETTINGS_MODULE.",
        parsers.boolean,
        False,
    ),
    Variable(
        "DJANGO_COLLECTSTATIC",
        "0",
        "1",
        "Run collectstatic --noinput before serving, like DJANGO_MIGRATE (STATIC_ROOT must be writable: "
        "under /data or in WRITABLE_DIRS; collecting at build time is better).",
        parsers.boolean,
        False,
    ),
    Variable(
        "DJANGO_ASGI_USER",
        "set by each image (10001:10001)",
        "10001:10001",
        "uid:gid that a container started as root switches to, after making /data and WRITABLE_DIRS writable "
        "by it; the steps, hooks, server and commands all run as this user. Started as another user "
        "(--user, runAsUser), nothing is switched.",
        parsers.user,
    ),
    Variable(
        "WRITABLE_DIRS",
        "empty",
        "/app/media",
        "Directories besides /data that a container started as root makes writable by DJANGO_ASGI_USER "
        "(created when missing; comma-separated absolute paths). Nothing else of the image is writable but /tmp.",
        parsers.directories,
        (),
    ),
)

_BY_NAME = {variable.name: variable for variable in VARIABLES}


class Config:
    """The parsed configuration (a plain class: dataclasses cost milliseconds at every start)."""

    server: str
    app: str | None
    host: str
    port: int
    workers: int
    log_level: str
    access_log: bool
    forwarded_allow_ips: tuple[str, ...]
    client_ip_header: str | None
    graceful_timeout: int
    keep_alive: int
    max_requests: int | None
    reload: bool
    server_args: tuple[str, ...]
    max_request_body: int
    max_websocket_message: int
    migrate: bool
    collectstatic: bool
    raw: Mapping[str, str]  # the variables that are set, as they are written (for refusals)

    def __init__(self, **fields: Any) -> None:
        missing = set(_CONFIG_FIELDS) ^ set(fields)
        if missing:
            raise TypeError(f"Config fields missing or unknown: {sorted(missing)}")
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"Config({', '.join(f'{key}={value!r}' for key, value in self.__dict__.items())})"


_CONFIG_FIELDS = tuple(Config.__annotations__)


def value(env: Mapping[str, str], name: str) -> Any:
    """One variable's parsed value; an empty value counts as unset."""
    variable = _BY_NAME[name]
    raw = env.get(name)
    if raw is None or not raw.strip():
        return variable.default
    return variable.parse(name, raw)


def load(env: Mapping[str, str], cpus: Callable[[], int] | None = None) -> Config:
    """Parse the environment; raise ConfigError on the first bad value."""

    def get(name: str) -> Any:
        return value(env, name)

    server = get("DJANGO_ASGI_SERVER")
    if server is None:
        raise ConfigError("DJANGO_ASGI_SERVER", None, f"not set; expected one of {', '.join(servers.names())}")
    # Both are checked; WORKERS wins when both are set.
    workers, web_concurrency = get("WORKERS"), get("WEB_CONCURRENCY")
    workers = workers or web_concurrency
    if workers is None:
        from django_asgi.cpus import available_cpus

        workers = (cpus or available_cpus)()
    on_fly = bool(env.get("FLY_APP_NAME", "").strip())
    get("HEALTHCHECK_PATH")  # read by `django-asgi healthcheck`; a bad value should fail the start, not the probe
    raw = {name: env[name] for name in _BY_NAME if env.get(name, "").strip()}
    return Config(
        server=server,
        app=get("DJANGO_ASGI_APP"),
        host=get("HOST"),
        port=get("PORT"),
        workers=workers,
        log_level=get("LOG_LEVEL"),
        access_log=get("ACCESS_LOG"),
        # Fly.io's proxy is the peer on every service port, and sets Fly-Client-IP itself.
        forwarded_allow_ips=get("FORWARDED_ALLOW_IPS") or (("*",) if on_fly else ()),
        client_ip_header=get("CLIENT_IP_HEADER") or ("Fly-Client-IP" if on_fly else None),
        graceful_timeout=get("GRACEFUL_TIMEOUT"),
        keep_alive=get("KEEP_ALIVE"),
        max_requests=get("MAX_REQUESTS"),
        reload=get("RELOAD"),
        server_args=get("SERVER_ARGS"),
        max_request_body=get("MAX_REQUEST_BODY"),
        max_websocket_message=get("MAX_WEBSOCKET_MESSAGE"),
        migrate=get("DJANGO_MIGRATE"),
        collectstatic=get("DJANGO_COLLECTSTATIC"),
        raw=raw,
    )
