"""What the tests and the benchmark know of each server: its folder's testing.toml
(django_asgi/servers/<name>/testing.toml, left out of the images), with {python} and {package} filled in."""

import sys
import tomllib
from pathlib import Path

import django_asgi

PACKAGE = Path(django_asgi.__file__).parent


def server_data(name: str, python: str = sys.executable, package: str | None = str(PACKAGE)) -> dict:
    """package None leaves {package} in place (where it lies in an image depends on its Python)."""
    data = tomllib.loads((PACKAGE / "servers" / name / "testing.toml").read_text())

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
