"""Each server's supported range (its folder's SUPPORTED): the locks lie in it, the image's constraints
say it, a start with another version installed stops with one line, flags follow the version."""

import runpy
from pathlib import Path

import pytest

from django_asgi import servers
from django_asgi.errors import StartRefused

ROOT = Path(__file__).resolve().parents[2]
VERSIONS = runpy.run_path(str(ROOT / "images" / "versions.py"))  # pinned(): the lock's version, as the bake file's
REQUIREMENTS = VERSIONS["REQUIREMENTS"]


@pytest.mark.parametrize("name", servers.names())
def test_the_lock_is_the_newest_in_the_range_and_the_constraints_say_the_range(name):
    for distribution, (oldest, below) in servers.load(name).SUPPORTED.items():
        pinned = VERSIONS["pinned"](REQUIREMENTS / f"{name}.lock", distribution)
        assert servers.release(oldest) <= servers.release(pinned) < servers.release(below), (distribution, pinned)
    assert (REQUIREMENTS / f"{name}.supported").read_text() == servers.constraints(name)


@pytest.mark.parametrize(
    "version, numbers",
    [("0.36.0", (0, 36)), ("22", (22,)), ("22.0.0", (22,)), ("2.8.9.post1", (2, 8, 9)), ("27.1rc1", (27, 1))],
)
def test_release_numbers(version, numbers):
    assert servers.release(version) == numbers


@pytest.fixture
def installed(monkeypatch):
    def install(**versions):
        monkeypatch.setattr(servers, "_DISTRIBUTIONS", {name.replace("_", "-"): v for name, v in versions.items()})

    return install


def test_a_version_outside_the_range_is_one_line(installed):
    installed(gunicorn="21.2.0", uvicorn="0.55.0", uvicorn_worker="0.4.0")
    with pytest.raises(StartRefused) as refused:
        servers.check_supported("uvicorn")
    assert refused.value.line() == (
        "django-asgi: gunicorn 21.2.0 is installed, and the uvicorn image supports gunicorn>=22.0.0,<28 (a "
        "requirement of the project replaced the image's): pin a version in that range, or drop the pin"
    )
    installed(gunicorn="28.0.0", uvicorn="0.55.0", uvicorn_worker="0.4.0")
    with pytest.raises(StartRefused):
        servers.check_supported("uvicorn")


def test_the_ends_of_the_range(installed):
    installed(gunicorn="22.0.0", uvicorn="0.55.9", uvicorn_worker="0.4.0")
    servers.check_supported("uvicorn")
    installed(granian="2.7.9")
    with pytest.raises(StartRefused, match=r"granian 2\.7\.9 is installed, and the granian image supports"):
        servers.check_supported("granian")


def test_flags_follow_the_installed_version(installed):
    from django_asgi import contract

    config = contract.load({"DJANGO_ASGI_SERVER": "uvicorn", "WORKERS": "1"})
    installed(gunicorn="23.0.0")
    assert "--no-control-socket" not in servers.load("uvicorn").plan(config, "app:application").argv
    installed(gunicorn="25.1.0")
    assert "--no-control-socket" in servers.load("uvicorn").plan(config, "app:application").argv
    config = contract.load({"DJANGO_ASGI_SERVER": "daphne", "WORKERS": "1"})
    installed(daphne="4.1.2")
    argv = servers.load("daphne").plan(config, "app:application").argv
    assert not [arg for arg in argv if arg.startswith("--websocket-max")]  # the runner sets autobahn's limits
    installed(daphne="4.2.2")
    assert "--websocket-max-message-size" in servers.load("daphne").plan(config, "app:application").argv
