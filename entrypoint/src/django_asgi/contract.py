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
    """One variable: its README row, its parser, its default, and the Config attribute that holds it
    (field: the name in lower case without DJANGO_ASGI_ and DJANGO_)."""

    __slots__ = ("default", "example", "field", "help", "name", "parse", "shown_default")

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
        self.field = name.removeprefix("DJANGO_ASGI_").removeprefix("DJANGO_").lower()
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
        "DJANGO_SETTINGS_MODULE",
        "unset",
        "mysite.settings.production",
        "Django's settings module (Django reads it too): chooses the app when DJANGO_ASGI_APP is unset, and the "
        "settings of the migrate and collectstatic steps when there is no manage.py. A dotted module path.",
        parsers.settings_module,
        "",
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
        "FLY_APP_NAME",
        "set by Fly.io",
        "hello",
        "Set on every Fly.io machine: then FORWARDED_ALLOW_IPS and CLIENT_IP_HEADER default to Fly's proxy.",
        parsers.text,
        "",
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
        "BODY_TIMEOUT",
        "60",
        "120",
        "Seconds a request body may stall: the longest wait for its next bytes once its head has arrived. "
        "Then the request is answered 408 and, over HTTP/1, its connection closed (over HTTP/2, its stream).",
        lambda n, r: parsers.integer(n, r, 1, 3600),
        60,
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
        "/app/uploads",
        "Directories besides /data and the MEDIA_ROOT and FILE_UPLOAD_TEMP_DIR inside the working directory that "
        "a container started as root makes writable by DJANGO_ASGI_USER (created when missing; comma-separated "
        "absolute paths). Nothing else of the image is writable but /tmp.",
        parsers.directories,
        (),
    ),
)

_BY_NAME = {variable.name: variable for variable in VARIABLES}


class Config:
    """The parsed configuration, one attribute per variable (Variable.field) and raw: the variables that
    are set, as they are written (for refusals). Workers, FORWARDED_ALLOW_IPS and CLIENT_IP_HEADER hold
    what load() derived when they are unset. A plain class: dataclasses cost milliseconds at every start."""

    def __init__(self, **fields: Any) -> None:
        unknown = set(fields) - set(_FIELDS)
        if unknown:
            raise TypeError(f"Config fields unknown: {sorted(unknown)}")
        self.__dict__.update(fields)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Config is read-only")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Config) and self.__dict__ == other.__dict__

    def __repr__(self) -> str:
        return f"Config({', '.join(f'{key}={value!r}' for key, value in self.__dict__.items())})"


_FIELDS = (*(variable.field for variable in VARIABLES), "raw")
# What a command other than serving (docker run IMAGE bash) reads: whom to become.
PRIVILEGES = ("DJANGO_ASGI_USER", "WRITABLE_DIRS")


def value(env: Mapping[str, str], name: str) -> Any:
    """One variable's parsed value; an empty value counts as unset."""
    variable = _BY_NAME[name]
    raw = env.get(name)
    if raw is None or not raw.strip():
        return variable.default
    return variable.parse(name, raw)


def load(env: Mapping[str, str], cpus: Callable[[], int] | None = None, only: tuple[str, ...] = ()) -> Config:
    """Parse the environment, every variable (or only those named); raise ConfigError on the first bad value.
    Nothing after this reads the environment's variables."""
    if not only and value(env, "DJANGO_ASGI_SERVER") is None:
        raise ConfigError("DJANGO_ASGI_SERVER", None, f"not set; expected one of {', '.join(servers.names())}")
    names = only or tuple(_BY_NAME)
    fields = {_BY_NAME[name].field: value(env, name) for name in names}
    fields["raw"] = {name: env[name] for name in names if env.get(name, "").strip()}
    if only:
        return Config(**fields)
    # Both are checked; WORKERS wins when both are set.
    if fields["workers"] is None:
        fields["workers"] = fields["web_concurrency"]
    if fields["workers"] is None:
        from django_asgi.cpus import available_cpus

        fields["workers"] = (cpus or available_cpus)()
    if fields["fly_app_name"]:
        # Fly.io's proxy is the peer on every service port, and sets Fly-Client-IP itself.
        fields["forwarded_allow_ips"] = fields["forwarded_allow_ips"] or ("*",)
        fields["client_ip_header"] = fields["client_ip_header"] or "Fly-Client-IP"
    return Config(**fields)
