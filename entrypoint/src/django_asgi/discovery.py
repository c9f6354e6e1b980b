"""Which ASGI application to serve, and whether its module can be found (without running any of it)."""

from __future__ import annotations

import os
import sys

from django_asgi.errors import ConfigError

DEFAULT_APP = "django_asgi.default_app.asgi:application"
# What an asgi.py holds, for projects that have none (older ones ship only wsgi.py).
DJANGO_HANDLER = "django_asgi.runtime.django_handler:application"


TYPE_CHECKING = False
if TYPE_CHECKING:
    from django_asgi.contract import Config


def resolve(config: Config, app_dir: str | os.PathLike) -> str:
    """DJANGO_ASGI_APP; else from DJANGO_SETTINGS_MODULE: the nearest package's asgi.py, else Django's own
    handler; else the single */asgi.py, else the default app."""
    if config.app:
        return config.app
    settings = config.settings_module
    if settings:
        parts = settings.split(".")[:-1]
        # Split settings (config.settings.production) keep asgi.py higher up (config/asgi.py).
        for end in range(len(parts), 0, -1):
            module = ".".join([*parts[:end], "asgi"])
            if missing(module, app_dir) is None:
                return f"{module}:application"
        return DJANGO_HANDLER
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


def check(app: str, config: Config, app_dir: str | os.PathLike) -> None:
    """The module the server will import can be found; else a ConfigError naming the variable that chose it.

    An asgi.py derived from DJANGO_SETTINGS_MODULE was found by resolve() already.
    """
    if config.app:
        variable, value, module = "DJANGO_ASGI_APP", app, app.split(":")[0]
    elif app == DJANGO_HANDLER:
        # Django's handler imports the settings module first: that is what must be there.
        variable = "DJANGO_SETTINGS_MODULE"
        value = module = config.settings_module
    else:
        return
    reason = missing(module, app_dir)
    if reason is not None:
        raise ConfigError(variable, value, reason)


def missing(module: str, app_dir: str | os.PathLike) -> str | None:
    """None when the module can be found from the working directory or the Python path; else why not.

    Looks at the file system only: no package's __init__ runs.
    """
    parts = module.split(".")
    search = [os.fspath(app_dir), *sys.path]
    for index, part in enumerate(parts):
        found = _locate(".".join(parts[: index + 1]), part, search)
        if found is None:
            if index == 0:
                return f"module {module} not found: there is no {part} in {os.fspath(app_dir)} or on the Python path"
            return f"module {module} not found: package {'.'.join(parts[:index])} ({search[0]}) has no module {part}"
        origin, package_dirs = found
        if index < len(parts) - 1:
            if package_dirs is None:
                return (
                    f"module {module} not found: {'.'.join(parts[: index + 1])} ({origin}) is a module, not a package"
                )
            search = package_dirs
    return None


def _locate(name: str, part: str, search: list[str]) -> tuple[str | None, list[str] | None] | None:
    """(origin, the package's directories or None for a module), or None when not there."""
    import importlib.machinery  # only when serving, not for --dry-run

    try:
        spec = importlib.machinery.PathFinder.find_spec(name, search)
    except KeyError:
        # A namespace package inside another: PathFinder looks the parent up in sys.modules, where
        # nothing is imported here. Its directories are the part's directories on the search path.
        return None, [os.path.join(entry, part) for entry in search if os.path.isdir(os.path.join(entry, part))]
    if spec is None:
        return None
    if spec.submodule_search_locations is None:
        return spec.origin, None
    if spec.origin and os.path.basename(spec.origin).startswith("__init__."):
        return spec.origin, [os.path.dirname(spec.origin)]
    return None, list(spec.submodule_search_locations)  # a top-level namespace package


def _listdir(path: str | os.PathLike) -> list[str]:
    try:
        return os.listdir(path)
    except OSError:
        return []
