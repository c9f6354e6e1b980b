"""What the tests and the benchmark know of each server: its folder's testing.toml
(entrypoint/src/django_asgi/servers/<name>/testing.toml in this tree, left out of the images), with
{python} and {package} filled in."""

import sys
import tomllib
from pathlib import Path

SERVERS = Path(__file__).resolve().parents[2] / "entrypoint" / "src" / "django_asgi" / "servers"
INSTALLED = "the installed django_asgi package"


def server_data(name: str, python: str = sys.executable, package: str | None = INSTALLED) -> dict:
    """package: the django_asgi directory the entrypoint under test runs from (by default the one
    this interpreter imports); None leaves {package} in place (where it lies in an image depends on its Python)."""
    if package == INSTALLED:
        import django_asgi  # only here: the benchmark, which passes None, runs without the entrypoint

        package = str(Path(django_asgi.__file__).parent)
    data = tomllib.loads((SERVERS / name / "testing.toml").read_text())

    def filled(value):
        if isinstance(value, str):
            value = value.replace("{python}", python)
            return value if package is None else value.replace("{package}", package)
        if isinstance(value, list):
            return [filled(item) for item in value]
        if isinstance(value, dict):
            return {key: filled(item) for key, item in value.items()}
        return value

    return filled(data)
