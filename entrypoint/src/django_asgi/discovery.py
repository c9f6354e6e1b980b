"""Which ASGI application to serve, and whether its module can be found."""

from __future__ import annotations

import os
import sys

from django_asgi import values
from django_asgi.errors import ConfigError

DEFAULT_APP = "django_asgi.default_app.asgi:application"


TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping


def resolve(app: str | None, env: Mapping[str, str], app_dir: str | os.PathLike) -> str:
    """DJANGO_ASGI_APP, else from DJANGO_SETTINGS_MODULE, else the single */asgi.py, else the default app."""
    if app:
        return app
    settings = env.get("DJANGO_SETTINGS_MODULE", "").strip()
    if settings:
        if ":" in settings or not values.is_dotted(settings):
            raise ConfigError(
                "DJANGO_SETTINGS_MODULE", settings, "expected a dotted module path, such as mysite.settings"
            )
        parts = settings.split(".")[:-1]
        if not parts:
            raise ConfigError(
                "DJANGO_SETTINGS_MODULE",
                settings,
                "cannot derive the app from a top-level settings module; set DJANGO_ASGI_APP",
            )
        packages = [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
        # Split settings (config.settings.production) keep asgi.py higher up (config/asgi.py).
        for package in packages:
            if os.path.isfile(os.path.join(app_dir, *package.split("."), "asgi.py")):
                return f"{package}.asgi:application"
        return f"{packages[0]}.asgi:application"
    found = sorted(
        name
        for name in _listdir(app_dir)
        if name.isidentifier() and os.path.isfile(os.path.join(app_dir, name, "asgi.py"))
    )
    if len(found) > 1:
        raise ConfigError(
            "DJANGO_ASGI_APP",
            None,
            f"not set and {app_dir} holds several asgi.py ({', '.join(found)}); set DJANGO_ASGI_APP",
        )
    if found:
        return f"{found[0]}.asgi:application"
    return DEFAULT_APP


def _listdir(path: str | os.PathLike) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []


def check_importable(
    app: str, app_dir: str | os.PathLike, variable: str = "DJANGO_ASGI_APP", value: str | None = None
) -> None:
    """Find the app's module on disk without running any of its code.

    value: what the variable says when the app was derived from it (DJANGO_SETTINGS_MODULE).
    """
    import importlib.machinery  # only when serving, not for --dry-run

    module = app.split(":")[0]
    search: list[str] | None = [os.fspath(app_dir), *sys.path]
    spec = None
    for part in _prefixes(module):
        spec = importlib.machinery.PathFinder.find_spec(part, search)
        if spec is None:
            break
        search = list(spec.submodule_search_locations or [])
    derived = f"the app derived from it, {app}, cannot be found: " if value is not None else ""
    if spec is None and not _top_level_found(module.split(".")[0]):
        reason = f"module {module} not found in {app_dir} or on the Python path"
        raise ConfigError(variable, app if value is None else value, derived + reason)
    if spec is None:
        reason = f"module {module} not found (its package exists, the module does not)"
        raise ConfigError(variable, app if value is None else value, derived + reason)


def _top_level_found(name: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # ValueError: in sys.modules with no __spec__, like a script's __main__
        return False


def _prefixes(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]
