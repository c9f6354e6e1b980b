"""The README's claim tables (tests/support/readme_claims.py) checked against the images: every row of the
flavor table is read by the test that checks it (readme_claims), and every exit status is produced by its cause."""

import re
import threading
import time

import pytest

from tests.support import readme_claims, websocket_raw
from tests.support.containers import SERVER_DATA, docker
from tests.support.polling import wait_for


def test_every_row_of_the_flavor_table_is_checked():
    # The modules whose tests take their expectations from the table, imported as a full run would.
    from tests.container import test_examples, test_hostile, test_images, test_reliability  # noqa: F401

    unread = set(readme_claims.FLAVOR_TABLE) - readme_claims.READ
    assert not unread, f"rows of the README's flavor table that no test checks: {sorted(unread)}"


def exit_of(image: str, *args: str, env: dict | None = None) -> tuple[int, str]:
    options = [item for key, value in (env or {}).items() for item in ("-e", f"{key}={value}")]
    result = docker("run", "--rm", *options, image, *args, check=False, timeout=120)
    return result.returncode, result.stderr


def test_exit_status_after_a_graceful_stop(image, run_container):
    container = run_container(image).wait_ready()
    docker("stop", container.name, timeout=30)
    assert container.wait_exit(30) == readme_claims.exit_status("stopped by SIGTERM or SIGINT after a graceful drain")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_stop_while_the_app_loads_is_prompt(probe_image, workers, run_container):
    # Kubernetes stops pods that are still starting (a rollout, a scale-down): every worker must
    # hear the SIGTERM, not only those that had loaded the app. The app here takes 3 s to load.
    container = run_container(probe_image, env={"DJANGO_ASGI_APP": "slowstart.asgi:application", "WORKERS": workers})
    loading = int(workers)
    wait_for(lambda: container.logs().count("probe: loading in") >= loading, 30, message="the workers to load")
    sent = time.monotonic()
    docker("kill", "--signal", "TERM", container.name)
    status = container.wait_exit(30)
    stopped = time.monotonic() - sent
    assert status == readme_claims.exit_status("stopped by SIGTERM or SIGINT after a graceful drain"), container.logs()
    assert stopped < 3 + 2, f"stopped {stopped:.1f} s after SIGTERM (GRACEFUL_TIMEOUT is 20 s)"


CUT_LINE = re.compile(r"django-asgi: stopped, but GRACEFUL_TIMEOUT cut (\d+) requests? still in flight")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_exit_status_after_a_drain_cut_short(probe_image, workers, run_container):
    # Two requests in flight at SIGTERM with GRACEFUL_TIMEOUT=3: one ends in time, one would take 20 s.
    graceful = 3
    container = run_container(probe_image, env={"GRACEFUL_TIMEOUT": str(graceful), "WORKERS": workers}).wait_ready()
    answers = {}

    def call(name: str, seconds: int) -> None:
        try:
            answers[name] = container.get(f"/slow/?seconds={seconds}&id={name}", timeout=30)
        except OSError as error:
            answers[name] = error

    threads = [threading.Thread(target=call, args=args) for args in (("quick", 1), ("long", 20))]
    for thread in threads:
        thread.start()
    wait_for(lambda: all(f"probe: started {name}" in container.logs() for name in ("quick", "long")), 15,
             message="both requests to start")  # fmt: skip
    sent = time.monotonic()
    docker("kill", "--signal", "TERM", container.name)
    status = container.wait_exit(graceful + 15)
    stopped = time.monotonic() - sent
    for thread in threads:
        thread.join(30)
    logs = container.logs()
    assert answers["quick"] == (200, "done quick\n"), logs
    assert answers["long"] != (200, "done long\n")
    assert status == readme_claims.exit_status("stopped by SIGTERM or SIGINT, but"), logs
    assert sum(int(count) for count in CUT_LINE.findall(logs)) == 1, logs
    assert stopped < graceful + 3, f"stopped {stopped:.1f} s after SIGTERM"


def test_exit_status_when_the_server_fails(image):
    # An address the container does not have: the server cannot listen.
    assert exit_of(image, env={"HOST": "192.0.2.1"})[0] == readme_claims.exit_status("the server failed")


def test_exit_status_for_bad_configuration(image):
    status, stderr = exit_of(image, env={"PORT": "abc"})
    assert status == readme_claims.exit_status("bad configuration") and len(stderr.splitlines()) == 1, stderr


def test_exit_status_when_the_app_fails_to_load(probe_image, flavor):
    # The probe project's broken.asgi raises on import.
    status, _ = exit_of(probe_image, env={"DJANGO_ASGI_APP": "broken.asgi:application"})
    expected = SERVER_DATA[flavor]["behaviour"]["boot_failure"]
    assert status == readme_claims.exit_status(expected)
    if expected != "the app failed to load":  # the table's "granian: also the app failed to load"
        assert f"{flavor}: also the app failed to load" in readme_claims.EXIT_STATUSES[str(status)]


def test_exit_status_for_a_command_that_cannot_run(image):
    statuses = readme_claims.EXIT_STATUSES
    assert "126, 127" in statuses and readme_claims.exit_status("the command given") == 126
    assert exit_of(image, "/etc")[0] == 126
    assert exit_of(image, "no-such-command")[0] == 127


PINGS = 2000


@pytest.mark.parametrize(
    "flavor", readme_claims.flavors("Ping flood from a client that never reads", lambda cell: cell.startswith("not"))
)
def test_a_flavor_said_to_answer_every_ping_does(image, flavor, run_container):
    # The flavor table's "not bounded (granian answers every ping)": each ping gets its pong.
    assert "answers every ping" in readme_claims.cell("Ping flood from a client that never reads", flavor)
    container = run_container(image, env={"WORKERS": "1"}).wait_ready()
    with websocket_raw.connect(container.address) as ws:
        ws.sendall(websocket_raw.frame(0x9, b"p") * PINGS)
        pongs, buffer, deadline = 0, b"", time.monotonic() + 20
        ws.settimeout(5)
        while pongs < PINGS and time.monotonic() < deadline:
            try:
                buffer += ws.recv(65536)
            except TimeoutError:
                break
            pongs += buffer.count(b"\x8a\x01p")
            buffer = buffer[-2:]
    assert pongs == PINGS
