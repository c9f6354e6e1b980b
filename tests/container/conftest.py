"""The container tests' fixtures and hooks: containers removed after each test, a flavor per
parameter, projects built FROM it, and the figures the reliability tests record (containers.py,
builds.py and reliability_report.py hold the code behind them)."""

from pathlib import Path

import pytest

from tests.support import reliability_report
from tests.support.builds import build_on
from tests.support.containers import FLAVORS, IMAGE, ROOT, Container, docker


@pytest.fixture
def run_container():
    """Start containers that are removed after the test."""
    started = []

    def start(image: str, **kwargs) -> Container:
        container = Container(image, **kwargs)
        started.append(container)
        return container

    yield start
    for container in started:
        container.remove()


@pytest.fixture(params=FLAVORS)
def flavor(request) -> str:
    return request.param


@pytest.fixture
def image(flavor) -> str:
    return f"{IMAGE}:{flavor}"


@pytest.fixture
def example_image(flavor) -> str:
    """examples/hello_django built FROM the flavor."""
    return build_on(flavor, ROOT / "examples" / "hello_django", "django-asgi-example")


@pytest.fixture
def probe_image(flavor) -> str:
    """tests/container/probe (a project whose responses name their worker) built FROM the flavor."""
    return build_on(flavor, ROOT / "tests" / "container" / "probe", "django-asgi-probe")


@pytest.fixture(scope="session")
def long(pytestconfig) -> bool:
    """--long: the reliability cases at full length."""
    return pytestconfig.getoption("long")


@pytest.fixture
def figures():
    """Record a case's figures for a flavor: the reliability table is made of them."""
    return reliability_report.record


def pytest_collection_modifyitems(items):
    for item in items:
        if "/container/" in str(item.fspath):
            item.add_marker(pytest.mark.container)


def pytest_terminal_summary(terminalreporter):
    sizes = []
    for flavor in FLAVORS:
        result = docker("image", "inspect", "-f", "{{.Size}}", f"{IMAGE}:{flavor}", check=False)
        if result.returncode == 0:
            sizes.append(f"{IMAGE}:{flavor} {int(result.stdout) / 1e6:.1f} MB")
    if sizes:
        terminalreporter.write_sep("-", "image sizes (uncompressed)")
        for line in sizes:
            terminalreporter.write_line(line)
    if reliability_report.FIGURES:
        terminalreporter.write_sep("-", "reliability figures")
        terminalreporter.write_line(reliability_report.tables(reliability_report.FIGURES))


def pytest_sessionfinish(session, exitstatus):
    if reliability_report.FIGURES and session.config.getoption("long"):
        reliability_report.write(reliability_report.FIGURES, ROOT / "docs" / "reliability.md")


@pytest.fixture
def empty_volume(tmp_path, flavor) -> Path:
    """An empty host directory owned by root, as a fresh Fly.io volume or `-v ./dir:/data` gives one.

    Made root's through a container, so that this holds wherever Docker runs, not only for root.
    """
    volume = tmp_path / "volume"
    volume.mkdir()
    docker("run", "--rm", "--entrypoint", "sh", "-v", f"{volume}:/volume", f"{IMAGE}:{flavor}",
           "-c", "chown 0:0 /volume && chmod 0755 /volume")  # fmt: skip
    assert (volume.stat().st_uid, volume.stat().st_gid) == (0, 0)
    return volume
