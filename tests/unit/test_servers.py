"""Every contract variable on every server mapping, as the exact argv of cli.build().

Each table row says what changes relative to the server's default command
line (DEFAULT_ARGV below, written out in full), and the whole argv is then
compared, so a flag that appears, vanishes or moves fails the row.
"""

import pytest

import django_asgi.cpus
from django_asgi import cli
from django_asgi.errors import ConfigError
from tests.support.entrypoint_runs import (
    DAPHNE_WEBSOCKET,
    DEFAULT_APP,
    DEFAULT_ARGV,
    DEFAULT_ENV,
    GRANIAN_WRAPPER,
    PY,
    SERVERS,
    WRAPPER,
    swap,
)


@pytest.fixture(autouse=True)
def one_cpu(monkeypatch):
    # WORKERS unset falls back to the CPUs available; pin that so the defaults do not depend on this machine.
    monkeypatch.setattr(django_asgi.cpus, "available_cpus", lambda: 1)


@pytest.fixture
def build(tmp_path):
    """cli.build for a server with some variables, in an empty app dir."""

    def run(server: str, extra: tuple[str, ...] = (), **env: str):
        return cli.build(list(extra), {"DJANGO_ASGI_SERVER": server, **env}, tmp_path)

    return run


@pytest.mark.parametrize("server", SERVERS)
def test_defaults(build, server):
    # The server's folder's testing.toml writes its default command out in full.
    _, app, plan = build(server)
    assert app == DEFAULT_APP
    assert plan.argv == DEFAULT_ARGV[server]
    assert plan.env == DEFAULT_ENV[server]


def test_granian_always_has_asginl(build):
    # Without it granian speaks RSGI and Django cannot be served at all.
    for env in ({}, {"RELOAD": "1"}, {"WORKERS": "4"}, {"FORWARDED_ALLOW_IPS": "*"}, {"HOST": "::"}):
        argv = build("granian", **env)[2].argv
        assert argv[argv.index("django_asgi.servers.granian.runner") :][1:3] == ["--interface", "asginl"], env


# (server, variables, tokens in the default argv, what replaces them)
SWAPS = [
    # HOST: IPv6 needs brackets in host:port binds, and the brackets are optional in the variable.
    # daphne: a Twisted endpoint (its --bind/--port listen with a backlog of 50), colons escaped.
    (
        "daphne",
        {"HOST": "::"},
        ["--endpoint", "tcp:port=8000:interface=0.0.0.0:backlog=2048"],
        ["--endpoint", r"tcp:port=8000:interface=\:\::backlog=2048"],
    ),
    ("hypercorn", {"HOST": "::"}, ["--bind", "0.0.0.0:8000"], ["--bind", "[::]:8000"]),
    ("uvicorn", {"HOST": "::"}, ["--bind", "0.0.0.0:8000"], ["--bind", "[::]:8000"]),
    ("granian", {"HOST": "::"}, ["--host", "0.0.0.0"], ["--host", "::"]),
    (
        "daphne",
        {"HOST": "[::1]"},
        ["--endpoint", "tcp:port=8000:interface=0.0.0.0:backlog=2048"],
        ["--endpoint", r"tcp:port=8000:interface=\:\:1:backlog=2048"],
    ),
    ("hypercorn", {"HOST": "[::1]"}, ["--bind", "0.0.0.0:8000"], ["--bind", "[::1]:8000"]),
    ("uvicorn", {"HOST": "[2001:DB8::1]"}, ["--bind", "0.0.0.0:8000"], ["--bind", "[2001:db8::1]:8000"]),
    ("granian", {"HOST": "[::]"}, ["--host", "0.0.0.0"], ["--host", "::"]),
    (
        "daphne",
        {"HOST": " 127.0.0.1 "},
        ["--endpoint", "tcp:port=8000:interface=0.0.0.0:backlog=2048"],
        ["--endpoint", "tcp:port=8000:interface=127.0.0.1:backlog=2048"],
    ),
    ("hypercorn", {"HOST": "127.0.0.1"}, ["--bind", "0.0.0.0:8000"], ["--bind", "127.0.0.1:8000"]),
    ("uvicorn", {"HOST": "10.1.2.3"}, ["--bind", "0.0.0.0:8000"], ["--bind", "10.1.2.3:8000"]),
    ("granian", {"HOST": "127.0.0.1"}, ["--host", "0.0.0.0"], ["--host", "127.0.0.1"]),
    # PORT
    (
        "daphne",
        {"PORT": "8080"},
        ["--endpoint", "tcp:port=8000:interface=0.0.0.0:backlog=2048"],
        ["--endpoint", "tcp:port=8080:interface=0.0.0.0:backlog=2048"],
    ),
    ("hypercorn", {"PORT": "1"}, ["--bind", "0.0.0.0:8000"], ["--bind", "0.0.0.0:1"]),
    ("uvicorn", {"PORT": "65535"}, ["--bind", "0.0.0.0:8000"], ["--bind", "0.0.0.0:65535"]),
    ("granian", {"PORT": "08080"}, ["--port", "8000"], ["--port", "8080"]),
    ("hypercorn", {"HOST": "::", "PORT": "9000"}, ["--bind", "0.0.0.0:8000"], ["--bind", "[::]:9000"]),
    # WORKERS (daphne and hypercorn: see test_supervised_workers)
    ("uvicorn", {"WORKERS": "3"}, ["--workers", "1"], ["--workers", "3"]),
    ("granian", {"WORKERS": "3"}, ["--workers", "1"], ["--workers", "3"]),
    # WEB_CONCURRENCY is the fallback when WORKERS is unset, and only then.
    ("uvicorn", {"WEB_CONCURRENCY": "5"}, ["--workers", "1"], ["--workers", "5"]),
    ("granian", {"WEB_CONCURRENCY": "5"}, ["--workers", "1"], ["--workers", "5"]),
    ("uvicorn", {"WORKERS": "2", "WEB_CONCURRENCY": "5"}, ["--workers", "1"], ["--workers", "2"]),
    ("granian", {"WORKERS": "2", "WEB_CONCURRENCY": "5"}, ["--workers", "1"], ["--workers", "2"]),
    ("granian", {"WORKERS": " ", "WEB_CONCURRENCY": "5"}, ["--workers", "1"], ["--workers", "5"]),
    # LOG_LEVEL, case-insensitive
    ("daphne", {"LOG_LEVEL": "warning"}, ["--log-level", "info"], ["--log-level", "warning"]),
    ("hypercorn", {"LOG_LEVEL": "DEBUG"}, ["--log-level", "info"], ["--log-level", "debug"]),
    ("uvicorn", {"LOG_LEVEL": "error"}, ["--log-level", "info"], ["--log-level", "error"]),
    ("granian", {"LOG_LEVEL": "Critical"}, ["--log-level", "info"], ["--log-level", "critical"]),
    # ACCESS_LOG
    ("daphne", {"ACCESS_LOG": "0"}, ["--access-log", "-"], ["--access-log", "/dev/null"]),
    ("hypercorn", {"ACCESS_LOG": "false"}, ["--access-logfile", "-"], []),
    ("uvicorn", {"ACCESS_LOG": "no"}, ["--access-logfile", "-"], []),
    ("granian", {"ACCESS_LOG": "OFF"}, ["--access-log"], ["--no-access-log"]),
    ("granian", {"ACCESS_LOG": "yes"}, ["--access-log"], ["--access-log"]),
    # GRACEFUL_TIMEOUT
    ("daphne", {"GRACEFUL_TIMEOUT": "30"}, ["--graceful-timeout", "20"], ["--graceful-timeout", "30"]),
    ("hypercorn", {"GRACEFUL_TIMEOUT": "30"}, ["--graceful-timeout", "20"], ["--graceful-timeout", "30"]),
    ("uvicorn", {"GRACEFUL_TIMEOUT": "30"}, ["--graceful-timeout", "20"], ["--graceful-timeout", "30"]),
    ("granian", {"GRACEFUL_TIMEOUT": "30"}, ["--workers-kill-timeout", "20"], ["--workers-kill-timeout", "30"]),
    # KEEP_ALIVE (refusals: test_refused); granian takes milliseconds.
    ("hypercorn", {"KEEP_ALIVE": "75"}, ["--keep-alive", "5"], ["--keep-alive", "75"]),
    ("uvicorn", {"KEEP_ALIVE": "75"}, ["--keep-alive", "5"], ["--keep-alive", "75"]),
    ("daphne", {"KEEP_ALIVE": "75"}, ["--keep-alive", "5"], ["--keep-alive", "75"]),
    (
        "granian",
        {"KEEP_ALIVE": "60"},
        ["--http1-header-read-timeout", "5000"],
        ["--http1-header-read-timeout", "60000"],
    ),
    # MAX_REQUESTS on uvicorn, with jitter so the workers are not all replaced at once.
    (
        "uvicorn",
        {"MAX_REQUESTS": "1000"},
        ["--worker-tmp-dir"],
        ["--max-requests", "1000", "--max-requests-jitter", "100", "--worker-tmp-dir"],
    ),
    (
        "uvicorn",
        {"MAX_REQUESTS": "5"},
        ["--worker-tmp-dir"],
        ["--max-requests", "5", "--max-requests-jitter", "1", "--worker-tmp-dir"],
    ),
    # SERVER_ARGS, split like a shell, just before the app
    (
        "daphne",
        {"SERVER_ARGS": "--proxy-headers-host X-Real-Host"},
        [WRAPPER],
        ["--proxy-headers-host", "X-Real-Host", WRAPPER],
    ),
    (
        "hypercorn",
        {"SERVER_ARGS": "--backlog 2048 --server-name 'a b'"},
        [WRAPPER],
        ["--backlog", "2048", "--server-name", "a b", WRAPPER],
    ),
    ("uvicorn", {"SERVER_ARGS": "--backlog 2048"}, [WRAPPER], ["--backlog", "2048", WRAPPER]),
    (
        "granian",
        {"SERVER_ARGS": "--workers-lifetime 3600 --http 2"},
        [GRANIAN_WRAPPER],
        ["--workers-lifetime", "3600", "--http", "2", GRANIAN_WRAPPER],
    ),
    ("granian", {"SERVER_ARGS": "  "}, [GRANIAN_WRAPPER], [GRANIAN_WRAPPER]),
]


@pytest.mark.parametrize(
    "server, env, old, new", SWAPS, ids=[f"{row[0]}-{'-'.join(f'{k}={v}' for k, v in row[1].items())}" for row in SWAPS]
)
def test_variable(build, server, env, old, new):
    _, _, plan = build(server, **env)
    assert plan.argv == swap(DEFAULT_ARGV[server], old, new)
    # granian's workers are given GRACEFUL_TIMEOUT in their environment too.
    given = {"DJANGO_ASGI_GRACEFUL_TIMEOUT": env["GRACEFUL_TIMEOUT"]} if "GRACEFUL_TIMEOUT" in env else {}
    assert plan.env == {**DEFAULT_ENV[server], **(given if server == "granian" else {})}


@pytest.mark.parametrize("server", SERVERS)
def test_extra_arguments_follow_server_args(build, server):
    # Flags given on the command line come after SERVER_ARGS (so they win) and before the app.
    _, _, plan = build(server, extra=("--from-cli", "1"), SERVER_ARGS="--from-env 2")
    app = DEFAULT_ARGV[server][-1]
    assert plan.argv == swap(DEFAULT_ARGV[server], [app], ["--from-env", "2", "--from-cli", "1", app])


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(
    "raw, app",
    [
        ("mysite.asgi:application", "mysite.asgi:application"),
        ("mysite.asgi", "mysite.asgi:application"),  # a bare module means its "application"
        (" config.asgi:app.wrapped ", "config.asgi:app.wrapped"),
    ],
)
def test_django_asgi_app(build, server, raw, app):
    _, resolved, plan = build(server, DJANGO_ASGI_APP=raw)
    assert resolved == app
    # Served through the wrapper, which finds the app in its environment.
    assert plan.argv == DEFAULT_ARGV[server]
    assert plan.env == {**DEFAULT_ENV[server], "DJANGO_ASGI_APP": app}


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(
    "raw, normalised",
    [
        ("*", "*"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        (" 10.0.0.1 , fd00::/8 ,", "10.0.0.1/32,fd00::/8"),
        ("192.168.1.7/24", "192.168.1.0/24"),  # host bits dropped, not an error
    ],
)
def test_forwarded_allow_ips(build, server, raw, normalised):
    # Servers that cannot restrict which peers to trust: the wrapper does, from the normalised list.
    _, _, plan = build(server, DJANGO_ASGI_APP="mysite.asgi", FORWARDED_ALLOW_IPS=raw)
    assert plan.argv == DEFAULT_ARGV[server]
    assert plan.env == {
        **DEFAULT_ENV[server],
        "DJANGO_ASGI_APP": "mysite.asgi:application",
        "DJANGO_ASGI_TRUSTED_PROXIES": normalised,
    }


@pytest.mark.parametrize(
    "env, trusted, header",
    [
        # Every Fly.io machine has FLY_APP_NAME: its proxy is the only peer and sets Fly-Client-IP.
        ({"FLY_APP_NAME": "hello"}, "*", "fly-client-ip"),
        ({"FLY_APP_NAME": "hello", "FORWARDED_ALLOW_IPS": "172.16.0.0/12"}, "172.16.0.0/12", "fly-client-ip"),
        ({"FLY_APP_NAME": "hello", "CLIENT_IP_HEADER": "X-Real-IP"}, "*", "x-real-ip"),
        ({"CLIENT_IP_HEADER": "X-Real-IP", "FORWARDED_ALLOW_IPS": "10.0.0.0/8"}, "10.0.0.0/8", "x-real-ip"),
        # A client-address header means nothing without a trusted proxy to set it.
        ({"CLIENT_IP_HEADER": "X-Real-IP"}, None, None),
    ],
)
@pytest.mark.parametrize("server", SERVERS)
def test_client_ip_header_and_fly_defaults(build, server, env, trusted, header):
    _, _, plan = build(server, **env)
    assert plan.env.get("DJANGO_ASGI_TRUSTED_PROXIES") == trusted
    assert plan.env.get("DJANGO_ASGI_CLIENT_IP_HEADER") == header


@pytest.mark.parametrize("server", SERVERS)
def test_empty_forwarded_allow_ips_trusts_nobody(build, server):
    # "," is a list of nothing: same as unset.
    _, _, plan = build(server, FORWARDED_ALLOW_IPS=" , ")
    assert plan.argv == DEFAULT_ARGV[server]
    assert plan.env == DEFAULT_ENV[server]


def supervise(workers: str, *rest: str) -> list[str]:
    return [PY, "-m", "django_asgi.supervise", "--workers", workers, "--graceful-timeout", "20", *rest]


DAPHNE_CHILD = [PY, "-m", "django_asgi.servers.daphne.runner", "--graceful-timeout", "20", "--log-level", "info",
                "--keep-alive", "5", "--endpoint", "systemd:domain=INET:index=0", "--access-log", "-",
                *DAPHNE_WEBSOCKET, WRAPPER]  # fmt: skip
HYPERCORN_CHILD = [PY, "-m", "django_asgi.servers.hypercorn.runner", "--bind", "fd://3", *DEFAULT_ARGV["hypercorn"][5:]]


@pytest.mark.parametrize(
    "env, expected",
    [
        # daphne has no workers: several daphnes share the supervisor's socket.
        ({"WORKERS": "1"}, DEFAULT_ARGV["daphne"]),
        ({"WORKERS": "3"}, [*supervise("3", "--bind", "0.0.0.0:8000"), "--", *DAPHNE_CHILD]),
        ({"WEB_CONCURRENCY": "2"}, [*supervise("2", "--bind", "0.0.0.0:8000"), "--", *DAPHNE_CHILD]),
        (
            {"WORKERS": "2", "HOST": "::", "PORT": "9000"},
            [
                *supervise("2", "--bind", "[::]:9000"),
                "--",
                *swap(DAPHNE_CHILD, ["systemd:domain=INET:index=0"], ["systemd:domain=INET6:index=0"]),
            ],
        ),
        ({"RELOAD": "1"}, [*supervise("1", "--bind", "0.0.0.0:8000", "--reload", "restart"), "--", *DAPHNE_CHILD]),
    ],
    ids=["1", "3", "web-concurrency", "ipv6", "reload"],
)
def test_daphne_workers(build, env, expected):
    assert build("daphne", **env)[2].argv == expected


@pytest.mark.parametrize(
    "env, expected",
    [
        # hypercorn's own multi-worker mode is unsafe: single-process hypercorns under the supervisor.
        ({"WORKERS": "1"}, DEFAULT_ARGV["hypercorn"]),
        ({"WORKERS": "4"}, [*supervise("4", "--bind", "0.0.0.0:8000"), "--", *HYPERCORN_CHILD]),
        ({"WORKERS": "2", "HOST": "[::]"}, [*supervise("2", "--bind", "[::]:8000"), "--", *HYPERCORN_CHILD]),
        # MAX_REQUESTS: the hypercorn exits after that many requests and the supervisor starts another.
        (
            {"MAX_REQUESTS": "500"},
            [
                *supervise("1", "--bind", "0.0.0.0:8000"),
                "--",
                *swap(HYPERCORN_CHILD, [WRAPPER], ["--max-requests", "500", WRAPPER]),
            ],
        ),
        (
            {"RELOAD": "true"},
            [*supervise("1", "--bind", "0.0.0.0:8000", "--reload", "restart"), "--", *HYPERCORN_CHILD],
        ),
    ],
    ids=["1", "4", "ipv6", "max-requests", "reload"],
)
def test_hypercorn_workers(build, env, expected):
    assert build("hypercorn", **env)[2].argv == expected


@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_reload_sends_hup(build, server):
    # Both reload their workers on SIGHUP; the supervisor only watches the files (no socket of its own).
    _, _, plan = build(server, RELOAD="1", WORKERS="2")
    inner = swap(DEFAULT_ARGV[server], ["--workers", "1"], ["--workers", "2"])
    assert plan.argv == [*supervise("1", "--reload", "HUP"), "--", *inner]


@pytest.mark.parametrize("server", SERVERS)
def test_unset_workers_uses_available_cpus(build, server, monkeypatch):
    monkeypatch.setattr(django_asgi.cpus, "available_cpus", lambda: 6)
    config, _, plan = build(server)
    assert config.workers == 6
    # The first --workers is the server's, or the supervisor's (daphne, hypercorn).
    assert plan.argv[plan.argv.index("--workers") + 1] == "6"


@pytest.mark.parametrize(
    "server, env, fragment",
    [
        ("daphne", {"MAX_REQUESTS": "1000"}, "MAX_REQUESTS='1000': daphne cannot recycle workers"),
        ("granian", {"MAX_REQUESTS": "1000"}, "MAX_REQUESTS='1000': granian cannot recycle workers"),
        ("granian", {"KEEP_ALIVE": "61"}, "KEEP_ALIVE='61': granian allows at most 60 seconds"),
    ],
)
def test_refused(build, server, env, fragment):
    # A variable a server cannot honour is an error, never silently ignored.
    with pytest.raises(ConfigError) as caught:
        build(server, **env)
    assert caught.value.line().startswith(f"django-asgi: {fragment}")


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize("name", ["DJANGO_MIGRATE", "DJANGO_COLLECTSTATIC", "HEALTHCHECK_PATH"])
def test_variables_that_do_not_touch_the_command(build, server, name):
    # These act before serving or in `django-asgi healthcheck`; the server command stays the same.
    value = "/healthz" if name == "HEALTHCHECK_PATH" else "1"
    config, _, plan = build(server, **{name: value})
    assert plan.argv == DEFAULT_ARGV[server]
    assert plan.env == DEFAULT_ENV[server]
    if name == "DJANGO_MIGRATE":
        assert (config.migrate, config.collectstatic) == (True, False)
    if name == "DJANGO_COLLECTSTATIC":
        assert (config.migrate, config.collectstatic) == (False, True)


@pytest.mark.parametrize(
    "raw, parsed",
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_booleans(build, raw, parsed):
    config, _, _ = build("granian", DJANGO_MIGRATE=raw, DJANGO_COLLECTSTATIC=raw)
    assert (config.migrate, config.collectstatic) == (parsed, parsed)


@pytest.mark.parametrize("server", SERVERS)
def test_server_name_is_case_insensitive(build, server):
    assert build(f" {server.upper()} ")[2].argv == DEFAULT_ARGV[server]


def test_bad_web_concurrency_is_refused_even_when_workers_is_set():
    from django_asgi import contract
    from django_asgi.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        contract.load({"DJANGO_ASGI_SERVER": "granian", "WORKERS": "2", "WEB_CONCURRENCY": "many"})
    assert caught.value.variable == "WEB_CONCURRENCY"
