"""Each flavor, run as users run it, checked from outside the container."""

import asyncio
import datetime
import json
import re
import signal
import threading
import time

import httpx
import pytest
import testinfra
import websockets

from django_asgi import cli
from tests.support import readme_claims
from tests.support.containers import FLAVORS, ROOT, SERVER_DATA, SERVER_FLAG, docker
from tests.support.polling import wait_for

SUPERVISOR = "django_asgi.supervise"
# A flag each server refuses by value (its parser converts it), as SERVER_ARGS or after the image name:
# the harmless one with a word for its number.
BAD_VALUE = {flavor: [SERVER_FLAG[flavor][0], "many"] for flavor in FLAVORS}


def manager(cell: str) -> str:
    """The process the flavor table's "Workers" row names: "granian's own", "... under `django_asgi.supervise`"."""
    return SUPERVISOR if f"`{SUPERVISOR}`" in cell else cell.split("'")[0]


MANAGER = {flavor: manager(readme_claims.cell("Workers (`WORKERS`)", flavor)) for flavor in FLAVORS}


def server_tree(container) -> tuple[dict, dict, list[dict]]:
    """PID 1, the server process (PID 1's child) and the server's children."""
    processes = container.processes()
    init = next(p for p in processes if p["pid"] == 1)
    children = [p for p in processes if p["ppid"] == 1]
    assert len(children) == 1, children
    server = children[0]
    return init, server, [p for p in processes if p["ppid"] == server["pid"]]


@pytest.mark.core
def test_example_project_serves(example_image, run_container):
    container = run_container(example_image).wait_ready()
    assert container.get("/") == (200, "Hello from Django\n")
    status, body = container.get("/api/")
    assert status == 200 and '"async": true' in body
    # ServeStatic serves what collectstatic put into the image.
    assert container.get("/static/admin/css/base.css")[0] == 200


@pytest.mark.core
@pytest.mark.smoke
def test_port_is_honoured(image, run_container):
    container = run_container(image, env={"PORT": "9001"}, port=9001).wait_ready()
    assert container.get("/")[0] == 200


@pytest.mark.core
@pytest.mark.parametrize("workers", [1, 3])
def test_workers_are_counted(image, flavor, workers, run_container):
    container = run_container(image, env={"WORKERS": str(workers)}).wait_ready()

    def tree_complete():
        children = server_tree(container)[2]
        return len(children) == workers or (workers == 1 and MANAGER[flavor] == SUPERVISOR and not children)

    wait_for(tree_complete, 20, message=f"{workers} worker processes")
    children = server_tree(container)[2]
    if workers == 1 and MANAGER[flavor] == SUPERVISOR:
        # One worker is the server process itself, with no manager around it.
        assert children == []
    else:
        assert len(children) == workers


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ipv6_host(image, workers, run_container):
    # This engine starts containers with IPv6 off; the sysctl turns it on as a v6 network would.
    container = run_container(
        image, env={"HOST": "::", "WORKERS": workers}, docker_args=("--sysctl", "net.ipv6.conf.all.disable_ipv6=0")
    ).wait_ready()
    # The published port reaches the server over IPv4; ::1 over IPv6.
    probe = "import urllib.request; print(urllib.request.urlopen('http://[::1]:8000/', timeout=5).status)"
    assert container.exec("python", "-c", probe).stdout.strip() == "200"


@pytest.mark.core
@pytest.mark.smoke
@pytest.mark.parametrize("flavor", readme_claims.flavors("HTTP/1.1 and WebSocket", lambda cell: cell == "yes"))
def test_websocket_echo(image, run_container):
    container = run_container(image).wait_ready()

    async def echo():
        async with websockets.connect(container.url.replace("http", "ws") + "/ws", open_timeout=10) as ws:
            await ws.send("ping ✓")
            text = await asyncio.wait_for(ws.recv(), 10)
            await ws.send(b"\x00\x01")
            binary = await asyncio.wait_for(ws.recv(), 10)
            return text, binary

    assert asyncio.run(echo()) == ("ping ✓", b"\x00\x01")


H2C = "HTTP/2 without TLS (prior knowledge)"
H2C_BY_DEFAULT = readme_claims.flavors(H2C, lambda cell: cell.startswith("yes"))
H2C_WITH_AUTO = readme_claims.flavors(H2C, lambda cell: cell.startswith("with `SERVER_ARGS='--http auto'`"))


@pytest.mark.parametrize(
    "flavor, env",
    [
        *[(flavor, {}) for flavor in H2C_BY_DEFAULT],
        *[(flavor, {"SERVER_ARGS": "--http auto"}) for flavor in H2C_WITH_AUTO],
    ],
    ids=[*H2C_BY_DEFAULT, *[f"{flavor}-http-auto" for flavor in H2C_WITH_AUTO]],
)
def test_http2_cleartext(image, env, run_container):
    container = run_container(image, env=env).wait_ready()
    with httpx.Client(http1=False, http2=True, timeout=10) as client:  # prior knowledge h2c
        response = client.get(container.url + "/")
    assert response.status_code == 200
    assert response.http_version == "HTTP/2"


@pytest.mark.parametrize("flavor", readme_claims.flavors(H2C, lambda cell: not cell.startswith("yes")))
def test_no_http2_cleartext_by_default(image, run_container):
    # The flavor table's "no" (granian: unless SERVER_ARGS='--http auto').
    container = run_container(image).wait_ready()
    with pytest.raises(httpx.HTTPError), httpx.Client(http1=False, http2=True, timeout=10) as client:
        client.get(container.url + "/")


@pytest.mark.smoke
def test_runs_as_non_root_under_init(image, flavor, run_container):
    container = run_container(image, env={"WORKERS": "2"}).wait_ready()
    host = testinfra.get_host(f"docker://{container.name}")
    init, server, workers = server_tree(container)
    assert init["cmd"][0].endswith("dumb-init")
    # Started as root (no USER in the image): dumb-init stays root's, the server and its workers are the
    # app user's (the entrypoint switched users, then ran the server in its own process).
    assert (init["uid"], init["gid"]) == (0, 0)
    assert {(p["uid"], p["gid"]) for p in (server, *workers)} == {(10001, 10001)}
    entrypoint = json.loads(docker("image", "inspect", "-f", "{{json .Config.Entrypoint}}", image).stdout)
    assert entrypoint == ["/opt/venv/bin/dumb-init", *cli.INIT_FLAGS, "/opt/venv/bin/django-asgi"]
    assert host.user("app").uid == 10001 and host.group("app").gid == 10001
    # The server (its manager) runs in the entrypoint's process, named after the server; its workers are
    # its forks, named alike, or runners of their own under django_asgi.supervise.
    assert server["cmd"][-1] == "/opt/venv/bin/django-asgi" and server["name"] == flavor, server
    if MANAGER[flavor] == SUPERVISOR:
        assert all(f"django_asgi.servers.{flavor}.runner" in worker["cmd"] for worker in workers), workers
    else:
        assert {worker["name"] for worker in workers} == {server["name"]}, workers
    # The final image carries no compiler and no pip cache.
    assert not host.exists("gcc") and not host.exists("cc")
    assert not host.file("/root/.cache/pip").exists and not host.file("/app/.cache/pip").exists


@pytest.mark.parametrize("workers", ["1", "2"])
def test_workers_collect_garbage_once_the_app_is_loaded(probe_image, workers, run_container):
    # The collector is held off while a worker imports the app (django_asgi.runtime.collector). Serving, it frees
    # reference cycles on its own again, and what the worker's start created is frozen out of its reach.
    container = run_container(probe_image, env={"WORKERS": workers}).wait_ready()
    answers = [container.get("/collector/") for _ in range(6)]
    assert {status for status, _ in answers} == {200}
    for answer in (json.loads(body) for _, body in answers):
        assert answer["cycle_freed"] is True and answer["frozen"] > 10_000, answer


@pytest.mark.core
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_lets_request_in_flight_finish(example_image, signum, run_container):
    graceful = 10
    container = run_container(example_image, env={"GRACEFUL_TIMEOUT": str(graceful), "WORKERS": "2"}).wait_ready()
    result = {}

    def slow_request():
        result["response"] = container.get("/slow/?seconds=3", timeout=30)

    thread = threading.Thread(target=slow_request)
    thread.start()
    wait_for(lambda: "slow request started" in container.logs(), 15, message="the slow request to start")
    sent = time.monotonic()
    docker("kill", "--signal", signum.name, container.name)
    code = container.wait_exit(timeout=graceful + 15)
    elapsed = time.monotonic() - sent
    thread.join(30)
    assert result.get("response") == (200, "slept 3.0 s\n"), container.logs()
    assert elapsed < graceful + 5, f"took {elapsed:.1f} s to stop"
    assert code == 0, container.logs()


@pytest.mark.core
@pytest.mark.smoke
def test_bad_env_exits_2_with_one_line(image):
    result = docker("run", "--rm", "-e", "PORT=abc", image, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == ["django-asgi: PORT='abc': expected a whole number from 1 to 65535"]
    assert "Traceback" not in result.stdout + result.stderr


def test_command_is_run(image):
    result = docker("run", "--rm", image, "python", "-c", "import django, sys; print(django.VERSION[0], sys.argv)")
    assert result.stdout.split()[0].isdigit()


@pytest.mark.parametrize("how", ["SERVER_ARGS", "after the image", "with --dry-run"])
@pytest.mark.parametrize("kind", ["unknown", "bad value", "stray"])
def test_server_flags_the_server_refuses_are_one_line(image, flavor, how, kind):
    # Checked by the server's own parser before anything starts: exit 2 and one line, not the
    # server's usage (once per worker) and its own status.
    flags = {
        "unknown": SERVER_DATA[flavor]["refused_flag"],
        "bad value": BAD_VALUE[flavor],
        "stray": [*SERVER_FLAG[flavor], "stray"],  # a second application
    }[kind]
    env = ["-e", f"SERVER_ARGS={' '.join(flags)}"] if how == "SERVER_ARGS" else []
    args = [] if how == "SERVER_ARGS" else flags
    result = docker("run", "--rm", *env, image, *args, *(["--dry-run"] if how == "with --dry-run" else []),
                    check=False, timeout=60)  # fmt: skip
    lines = result.stderr.splitlines()
    assert result.returncode == 2 and result.stdout == "", result
    assert len(lines) == 1 and lines[0].startswith(f"django-asgi: {flavor} refuses the server flags "), lines
    assert " ".join(flags) in lines[0] and "usage" not in lines[0].lower(), lines


@pytest.mark.core
def test_server_flag_is_appended(image, flavor, run_container):
    flag = SERVER_FLAG[flavor]
    dry = docker("run", "--rm", image, "--dry-run", *flag).stdout
    assert " ".join(flag) in dry
    container = run_container(image, args=tuple(flag)).wait_ready()
    commands = [" ".join(p["cmd"]) for p in container.processes()]
    assert any(" ".join(flag) in command for command in commands), commands


@pytest.mark.parametrize(
    "options",
    [
        # The README's hardened run: without capabilities, root cannot switch users; --user starts as the app user.
        (
            "--user",
            "10001:10001",
            "--read-only",
            "--tmpfs",
            "/tmp",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
        ),
        # As root with Docker's default capabilities, the entrypoint switches users.
        ("--read-only", "--tmpfs", "/tmp", "--security-opt", "no-new-privileges"),
        ("--user", "12345:12345"),
        ("--user", "4242:0", "--read-only", "--cap-drop", "ALL"),
    ],
    ids=["hardened", "root-read-only", "any-uid", "any-uid-read-only-no-tmp"],
)
def test_restricted_runs_serve(image, options, run_container):
    container = run_container(image, docker_args=options).wait_ready()
    assert container.get("/")[0] == 200


@pytest.mark.core
@pytest.mark.smoke
def test_default_app_and_healthcheck(image, flavor, run_container):
    container = run_container(image, docker_args=("--health-interval", "1s", "--health-start-period", "30s"))
    container.wait_ready()
    status, body = container.get("/")
    assert status == 200 and flavor in body and "Django" in body and "DJANGO_ASGI_APP" in body
    wait_for(lambda: container.inspect()["State"]["Health"]["Status"] == "healthy", 30, message="healthy")


def test_startup_logs_are_clean(example_image, run_container):
    container = run_container(example_image, env={"WORKERS": "2"}).wait_ready()
    container.get("/")
    # Static files through ServeStatic: no "StreamingHttpResponse must consume synchronous iterators" Warning.
    assert container.get("/static/admin/css/base.css")[0] == 200
    docker("stop", container.name, timeout=60)
    logs = container.logs()
    assert "Warning" not in logs
    assert "Traceback" not in logs
    assert "lifespan" not in logs.lower()
    assert "django-asgi:" in logs and "serving hello_django.asgi:application on 0.0.0.0:8000" in logs


@pytest.mark.parametrize("flavor", readme_claims.flavors("Reload (`RELOAD=1`)", lambda cell: cell == "yes"))
def test_reload_picks_up_code_changes(example_image, run_container):
    container = run_container(example_image, env={"RELOAD": "1", "WORKERS": "2"}).wait_ready()
    assert container.get("/")[1] == "Hello from Django\n"
    # As a bind-mounted edit would: change the view inside the running container.
    docker("exec", "-u", "0", container.name, "sed", "-i", "s/Hello from Django/Hello again/", "hello_django/views.py")
    wait_for(lambda: container.get("/")[1] == "Hello again\n", 20, interval=0.25, message="the edited view")
    assert container.running()


def test_labels_name_server_and_versions(image, flavor):
    labels = json.loads(docker("image", "inspect", "-f", "{{json .Config.Labels}}", image).stdout)
    lock = (ROOT / "images" / "requirements" / f"{flavor}.lock").read_text()
    assert labels["io.django-asgi.server"] == flavor
    assert f"\n{flavor}=={labels['io.django-asgi.server.version']} " in lock
    assert f"\ndjango=={labels['io.django-asgi.django.version']} " in lock
    for key in ("source", "version", "revision", "licenses"):
        assert labels[f"org.opencontainers.image.{key}"], key
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", image).stdout)
    assert config["WorkingDir"] == "/app" and "8000/tcp" in config["ExposedPorts"]
    # No USER: derived images build as root; the entrypoint switches to DJANGO_ASGI_USER to serve.
    assert not config.get("User") and "DJANGO_ASGI_USER=10001:10001" in config["Env"]
    assert "PYTHONUNBUFFERED=1" in config["Env"]
    assert config["Healthcheck"]["Test"][-1] == "healthcheck"


def test_translations_work_without_their_sources(image):
    # The .po sources are left out of the image; Django reads the compiled .mo files.
    script = (
        "import pathlib, django\nfrom django.conf import settings\nsettings.configure(USE_I18N=True)\n"
        "django.setup()\nfrom django.utils.translation import gettext, override\n"
        "with override('fr'):\n    print(gettext('Yes'))\n"
        "print(len(list(pathlib.Path(django.__file__).parent.rglob('*.po'))))\n"
    )
    assert docker("run", "--rm", image, "python", "-c", script).stdout.split() == ["Oui", "0"]


# The flavors whose access log shows the time (uvicorn's has none).
@pytest.mark.parametrize("flavor", [f for f in FLAVORS if SERVER_DATA[f]["behaviour"]["access_log_time"] != "none"])
def test_default_app_logs_utc_times(image, flavor, run_container):
    # Django makes TIME_ZONE the process time zone; its default is America/Chicago.
    container = run_container(image).wait_ready()
    before = datetime.datetime.now(datetime.UTC)
    container.get("/utc-check")
    wait_for(lambda: '"GET /utc-check' in container.logs(), 10, message="the access log line")
    (line,) = [line for line in container.logs().splitlines() if '"GET /utc-check' in line]
    if SERVER_DATA[flavor]["behaviour"]["access_log_time"] == "utc-without-offset":  # [29/Nov/2026:19:53:28]
        logged = datetime.datetime.strptime(re.search(r"\[(\S+)\]", line)[1], "%d/%b/%Y:%H:%M:%S")
        assert abs(logged.replace(tzinfo=datetime.UTC) - before) < datetime.timedelta(minutes=2), line
    else:
        assert "+0000]" in line, line


@pytest.mark.core
@pytest.mark.parametrize("flavor", readme_claims.flavors("Access log (`ACCESS_LOG`)", lambda cell: cell == "yes"))
@pytest.mark.parametrize("level", ["warning", "critical"])
def test_access_log_does_not_depend_on_log_level(image, level, run_container):
    # ACCESS_LOG=1 is the default: every flavor writes the access line whatever LOG_LEVEL says.
    container = run_container(image, env={"LOG_LEVEL": level}).wait_ready()
    container.get("/level-check")
    wait_for(lambda: "GET /level-check" in container.logs(), 10, message="the access log line")
    # ...and no INFO lines of the server's own (hypercorn's access lines carry its level).
    info = [line for line in container.logs().splitlines() if "INFO" in line and '"GET /' not in line]
    assert info == [], container.logs()
