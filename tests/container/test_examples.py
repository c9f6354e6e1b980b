"""The examples' deployment files agree with the image they deploy."""

import asyncio
import json
import math
import os
import tomllib

import httpx
import pytest
import websockets
import yaml

from django_asgi.contract import VARIABLES
from django_asgi.supervise import KILL_AFTER
from tests.support import readme_claims
from tests.support.builds import build_on
from tests.support.containers import ROOT, docker

FLY = tomllib.loads((ROOT / "examples" / "hello_django" / "fly.toml").read_text())
DEFAULTS = {variable.name: variable.shown_default for variable in VARIABLES}
SUPERVISOR_MARGIN = KILL_AFTER  # seconds past GRACEFUL_TIMEOUT before workers are killed


def setting(name: str) -> str:
    return FLY.get("env", {}).get(name, DEFAULTS[name])


@pytest.mark.parametrize("flavor", ["granian"])  # the example's default base
def test_fly_toml_matches_the_image(example_image, empty_volume, run_container):
    config = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", example_image).stdout)
    service = FLY["http_service"]
    port = service["internal_port"]
    assert f"{port}/tcp" in config["ExposedPorts"] and str(port) == setting("PORT")
    # The image drains on SIGTERM, and on SIGINT (Fly's default), which dumb-init turns into SIGTERM.
    assert FLY["kill_signal"] in ("SIGTERM", "SIGINT")
    assert FLY["kill_timeout"] >= int(setting("GRACEFUL_TIMEOUT")) + SUPERVISOR_MARGIN

    # The database lives on the volume, which starts empty and root's; migrations run at start
    # (Fly's release machines mount no volume).
    (mount,) = FLY["mounts"] if isinstance(FLY["mounts"], list) else [FLY["mounts"]]
    env = {**FLY["env"], "FLY_APP_NAME": FLY["app"]}  # as Fly.io sets it in every machine
    assert env["DJANGO_MIGRATE"] == "1" and "release_command" not in FLY.get("deploy", {})
    assert f"DJANGO_DB_PATH={mount['destination']}/db.sqlite3" in config["Env"]
    (check,) = service["checks"]
    assert check["path"] == setting("HEALTHCHECK_PATH")
    # Served as Fly's check asks for it (its Host header among ALLOWED_HOSTS).
    container = run_container(example_image, env=env, docker_args=("-v", f"{empty_volume}:{mount['destination']}"))
    container.wait_ready(check["path"], headers=check.get("headers"))
    # dumb-init, PID 1, turns Fly's SIGINT into SIGTERM.
    init = next(p for p in container.processes() if p["pid"] == 1)
    assert init["cmd"][0].endswith("dumb-init") and "--rewrite 2:15" in " ".join(init["cmd"])
    assert "Applying sessions.0001_initial... OK" in container.logs()
    # Writes through the app land on the volume, owned by the app user.
    with httpx.Client(base_url=container.url, headers=check.get("headers"), timeout=10) as client:
        assert [client.get("/visits/").text for _ in range(2)] == ["visits: 1\n", "visits: 2\n"]
        # Behind Fly's proxy with nothing configured: https and the client's address as Fly reports them.
        fly = {"Fly-Client-IP": "198.51.100.4", "X-Forwarded-For": "6.6.6.6", "X-Forwarded-Proto": "https"}
        assert client.get("/whoami/", headers=fly).json() == {"remote_addr": "198.51.100.4", "secure": True}
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [empty_volume, *empty_volume.iterdir()]} == {(10001, 10001)}


@pytest.mark.parametrize("flavor", ["granian"])
def test_command_passed_through_writes_state_as_the_app_user(example_image, empty_volume):
    # A release_command (or any `docker run IMAGE python manage.py ...`) runs as the app user too.
    result = docker("run", "--rm", "-v", f"{empty_volume}:/data", example_image, "python", "manage.py", "migrate",
                    "--noinput", timeout=300)  # fmt: skip
    assert "Applying" in result.stdout
    assert {(p.stat().st_uid, p.stat().st_gid) for p in [empty_volume, *empty_volume.iterdir()]} == {(10001, 10001)}


@pytest.fixture
def channels_image(flavor) -> str:
    return build_on(flavor, ROOT / "examples" / "channels_chat", "django-asgi-channels")


@pytest.mark.parametrize("flavor", readme_claims.flavors("Django Channels", lambda cell: cell.startswith("yes")))
def test_channels_room_reaches_everyone(channels_image, run_container):
    # As the example is run, with no WORKERS given: its Dockerfile pins one worker, since the
    # in-memory channel layer reaches consumers of the same process only.
    container = run_container(channels_image).wait_ready()
    room = container.url.replace("http", "ws") + "/ws/lobby/"

    async def chat():
        async with (
            websockets.connect(room, origin="http://localhost", open_timeout=15) as alice,
            websockets.connect(room, origin="http://localhost", open_timeout=15) as bob,
        ):
            await alice.send("hello, room")
            return [await asyncio.wait_for(peer.recv(), 10) for peer in (alice, bob)]

    async def foreign_origin():
        # A page from another site is refused (AllowedHostsOriginValidator).
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(room, origin="http://evil.example", open_timeout=15):
                pass

    # Ten rooms' worth of trials: every message reaches both (with two workers some did not).
    for _ in range(10):
        assert [json.loads(message) for message in asyncio.run(chat())] == [{"message": "hello, room"}] * 2
    asyncio.run(foreign_origin())
    assert "with 1 worker," in container.logs()


@pytest.mark.parametrize("flavor", ["granian"])  # the example's default base
def test_kubernetes_example_matches_the_image(example_image, run_container):
    documents = list(yaml.safe_load_all((ROOT / "examples" / "kubernetes" / "hello-django.yaml").read_text()))
    pod = next(d for d in documents if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    (web,) = pod["containers"]
    env = {item["name"]: item["value"] for item in web["env"]}
    config = docker("image", "inspect", "-f", "{{json .Config}}", example_image).stdout
    (port,) = web["ports"]
    assert f'"{port["containerPort"]}/tcp"' in config and str(port["containerPort"]) == DEFAULTS["PORT"]
    # The pod may take preStop, then the graceful drain, then the supervisor's margin.
    pre_stop = web["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    graceful = int(env.get("GRACEFUL_TIMEOUT", DEFAULTS["GRACEFUL_TIMEOUT"]))
    assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + graceful + SUPERVISOR_MARGIN

    # Run the image as the pod would: its env, read-only root with /tmp writable, no capabilities,
    # the CPU limit; WORKERS unset follows the limit.
    cpus = float(web["resources"]["limits"]["cpu"])
    security = pod["securityContext"]
    assert security["runAsNonRoot"] and security["runAsUser"] == security["runAsGroup"] == security["fsGroup"] == 10001
    options = ("--user", f"{security['runAsUser']}:{security['runAsGroup']}", "--read-only", "--tmpfs", "/tmp",
               "--cap-drop", "ALL", "--security-opt", "no-new-privileges", "--cpus", str(cpus))  # fmt: skip
    readiness = web["readinessProbe"]["httpGet"]
    headers = {h["name"]: h["value"] for h in readiness.get("httpHeaders", [])}
    assert readiness["path"] == DEFAULTS["HEALTHCHECK_PATH"]
    container = run_container(example_image, env=env, docker_args=options).wait_ready(
        readiness["path"], headers=headers
    )
    assert container.exec(*web["livenessProbe"]["exec"]["command"], check=False).returncode == 0
    assert container.exec("sh", "-c", f"command -v {pre_stop[0]}", check=False).returncode == 0
    workers = min(math.ceil(cpus), os.cpu_count())
    assert f"with {workers} worker{'s' if workers != 1 else ''}," in container.logs()
