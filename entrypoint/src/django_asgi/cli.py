"""Dispatch, docker-library style.

django-asgi                  serve
django-asgi --flag ...       serve, with the flags appended to the server command
django-asgi --dry-run [...]  print the server command and exit
django-asgi healthcheck      probe the local server (Docker HEALTHCHECK)
django-asgi CMD ARGS...      exec CMD with the same environment
"""

import os
import shlex
import sys

from django_asgi import discovery, servers, settings
from django_asgi.boot import BOOT_ID, new_id
from django_asgi.errors import ConfigError, StepFailed


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "healthcheck":
        from django_asgi import healthcheck

        return healthcheck.main(os.environ)
    if args and not args[0].startswith("-"):
        return _exec_command(args)
    dry_run = bool(args) and args[0] == "--dry-run"
    try:
        return serve(args[1:] if dry_run else args, os.environ, os.getcwd(), dry_run=dry_run)
    except ConfigError as error:
        print(error.line(), file=sys.stderr, flush=True)
        return 2
    except StepFailed as error:
        print(error, file=sys.stderr, flush=True)
        return error.status


def build(extra: list[str], env, app_dir: str | os.PathLike) -> tuple[settings.Config, str, servers.Plan]:
    config = settings.load(env)
    app = discovery.resolve(config.app, env, app_dir)
    plan = servers.load(config.server).plan(config, app, tuple(extra))
    return config, app, plan


def serve(extra: list[str], env, app_dir: str | os.PathLike, dry_run: bool = False) -> int:
    config, app, plan = build(extra, env, app_dir)
    if dry_run:
        print(shlex.join([f"{key}={value}" for key, value in plan.env.items()] + plan.argv), flush=True)
        return 0
    if not config.app and env.get("DJANGO_SETTINGS_MODULE"):
        # Derived from the settings module: the error names that variable and its value.
        discovery.check_importable(app, app_dir, "DJANGO_SETTINGS_MODULE", env["DJANGO_SETTINGS_MODULE"])
    else:
        discovery.check_importable(app, app_dir)
    from django_asgi import steps  # subprocess and pathlib: only when serving

    steps.run(steps.startup_commands(config.migrate, config.collectstatic, app_dir, steps.HOOKS_DIR), app_dir)
    print(_summary(config, app), file=sys.stderr, flush=True)
    # The workers of this start report a failing import once between them (django_asgi.boot).
    return _exec(plan.argv, {**env, **plan.env, BOOT_ID: new_id()})


def _summary(config: settings.Config, app: str) -> str:
    bind = servers.host_port(config)
    return (
        f"django-asgi: {config.server} ({', '.join(servers.versions(config.server))}) serving {app} on {bind} "
        f"with {config.workers} worker{'s' if config.workers != 1 else ''}, python {sys.version.split()[0]}"
    )


def _exec_command(args: list[str]) -> int:
    return _exec(args, os.environ)


def _exec(args: list[str], env) -> int:
    try:
        os.execvpe(args[0], args, env)
    except OSError as error:
        print(f"django-asgi: cannot run {args[0]!r}: {error.strerror}", file=sys.stderr, flush=True)
        return 127 if isinstance(error, FileNotFoundError) else 126
    return 1  # not reached
