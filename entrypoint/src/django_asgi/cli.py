"""Dispatch, docker-library style.

django-asgi                  serve
django-asgi --flag ...       serve, with the flags appended to the server command
django-asgi ... --dry-run    print the server command and exit (anywhere among the flags)
django-asgi healthcheck      probe the local server (Docker HEALTHCHECK)
django-asgi compile          write the project's bytecode (a build step: RUN django-asgi compile)
django-asgi CMD ARGS...      exec CMD with the same environment

Started as root, everything but healthcheck and compile first switches to the app user
(django_asgi.privileges). The images start it under dumb-init (PID 1), and it
runs the server's `python -m` command in its own process; started as PID 1
itself (another entrypoint), it execs dumb-init with the command instead.
"""

import errno
import os
import sys

from django_asgi import contract, discovery, media, servers
from django_asgi.errors import ConfigError, StartRefused, StepFailed
from django_asgi.runtime.boot import BOOT_ID, new_id
from django_asgi.servers import command

# dumb-init reaps zombies and passes signals to the one child only (a process group would get
# them twice). SIGINT becomes SIGTERM: Fly.io stops with SIGINT, which gunicorn treats as a fast,
# non-graceful shutdown.
INIT_FLAGS = ("--single-child", "--rewrite", "2:15", "--")


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "healthcheck":
        from django_asgi import healthcheck

        return healthcheck.main(os.environ)
    if args == ["compile"]:  # a build step, as root: nothing to switch
        from django_asgi import bytecode

        return bytecode.main(os.getcwd(), _settings_module(os.environ, os.getcwd()))
    try:
        serving, dry_run = not args or args[0].startswith("-"), "--dry-run" in args
        extra = [arg for arg in args if arg != "--dry-run"]
        built, written = None, []
        if serving:
            _name_process(os.environ.get("DJANGO_ASGI_SERVER", ""))
        if serving and not dry_run:
            # The plan before the media: a refused configuration or server version reads no settings.
            built = build(extra, os.environ, os.getcwd())
            config = built[0]
            written = _written(config, built[1], os.getcwd())
        else:
            config = contract.load(os.environ, only=contract.PRIVILEGES)
        inside = tuple(found.path for found in written if found.inside)
        switch_user(config, os.environ, os.getcwd(), inside)
        if not serving:
            return _exec(args, os.environ)
        return serve(extra, os.environ, os.getcwd(), dry_run=dry_run, written=written, built=built)
    except (ConfigError, StartRefused) as error:
        print(error.line(), file=sys.stderr, flush=True)
        return 2
    except StepFailed as error:
        print(error, file=sys.stderr, flush=True)
        return error.status


def _name_process(server: str) -> None:
    """ps and top show the server's process (and the workers it forks) by the server's name, not
    django-asgi: it runs in this process. Before switch_user: once it has switched, the process is
    no longer dumpable and its /proc files are root's (which keeps other processes of the app user
    from reading or tracing it)."""
    server = server.strip().lower()
    if server in servers.SERVERS:
        try:
            with open("/proc/self/comm", "w") as comm:
                comm.write(server)
        except OSError:
            pass


def _settings_module(env, app_dir: str) -> str | None:
    """The settings module a start would read media from (for the build step's record)."""
    try:
        config = contract.load(env, only=("DJANGO_ASGI_APP", "DJANGO_SETTINGS_MODULE"))
        return media.settings_module(config.settings_module, discovery.resolve(config, app_dir), app_dir)
    except ConfigError:
        return None  # the start says what is wrong with them


def _written(config: contract.Config, app: str, app_dir: str) -> list[media.Written]:
    """The directories the project's settings write to (django_asgi.media), read as the app user."""
    settings = media.settings_module(config.settings_module, app, app_dir)
    if settings is None:
        return []
    found = media.recorded(settings, app_dir)
    if found is None:
        found = media.probe(settings, app_dir, config.user if os.geteuid() == 0 else None)
    return found


def switch_user(config: contract.Config, env, app_dir: str, media_dirs: tuple[str, ...] = ()) -> None:
    """As root: hand /data, WRITABLE_DIRS and the media directories inside the working directory to
    DJANGO_ASGI_USER and become it (HOME in env becomes its). Otherwise check that WRITABLE_DIRS are
    writable as they are (nobody here can hand them over)."""
    user, writable = config.user, config.writable_dirs
    if os.geteuid() == 0:
        from django_asgi import privileges

        privileges.switch(user, writable, env, app_dir, media_dirs)
        return
    for path in writable:
        if not os.access(path, os.W_OK):
            raise ConfigError(
                "WRITABLE_DIRS",
                ",".join(writable),
                f"{path} is not writable by uid {os.geteuid()}, and only a container started as root can "
                "hand it over (or give the volume to this group: fsGroup)",
            )


def build(extra: list[str], env, app_dir: str | os.PathLike) -> tuple[contract.Config, str, command.Plan]:
    config = contract.load(env)
    servers.check_supported(config.server)
    app = discovery.resolve(config, app_dir)
    plan = servers.load(config.server).plan(config, app, tuple(extra))
    return config, app, plan


def serve(
    extra: list[str],
    env,
    app_dir: str | os.PathLike,
    dry_run: bool = False,
    written: list[media.Written] = (),
    built: tuple[contract.Config, str, command.Plan] | None = None,
) -> int:
    """built: what build() gave for these arguments already (main builds before the media are read)."""
    config, app, plan = built or build(extra, env, app_dir)
    servers.check_arguments(config, extra)
    if dry_run:
        import shlex

        print(shlex.join([f"{key}={value}" for key, value in plan.env.items()] + plan.argv), flush=True)
        return 0
    discovery.check(app, config, app_dir)
    from django_asgi import steps  # only when serving, not for --dry-run

    commands = steps.startup_commands(
        config.migrate, config.collectstatic, app_dir, steps.HOOKS_DIR, config.settings_module
    )
    steps.run(commands, app_dir)
    print(_summary(config, app, written), file=sys.stderr, flush=True)
    # The workers of this start report a failing import once between them (django_asgi.runtime.boot).
    server_env = {**env, **plan.env, BOOT_ID: new_id()}
    if plan.argv[:2] == [sys.executable, "-m"] and os.getpid() != 1:
        return _run_module(plan.argv[2:], server_env)
    return _exec(plan.argv, server_env)


def _run_module(args: list[str], env) -> int:
    """`python -m MODULE ARGS...` in this interpreter: the server starts without starting Python a
    second time (about 14 ms of every cold start). What it sees is what -m gives it: its arguments,
    the working directory first on sys.path, itself as __main__; and the server's environment. Its
    command line stays the entrypoint's (main() names the process after the server)."""
    import runpy

    os.environ.clear()
    os.environ.update(env)
    sys.argv = list(args)  # runpy puts the module's file first
    sys.path[0] = os.getcwd()
    runpy.run_module(args[0], run_name="__main__", alter_sys=True)
    return 0


def _summary(config: contract.Config, app: str, written: list[media.Written] = ()) -> str:
    bind = command.host_port(config)
    if app == discovery.DJANGO_HANDLER:
        app = f"Django's ASGI handler for {config.settings_module} (no asgi.py found)"
    line = (
        f"django-asgi: {config.server} ({', '.join(servers.versions(config.server))}) serving {app} on {bind} "
        f"with {config.workers} worker{'s' if config.workers != 1 else ''}, "
        f"django {servers.installed('django')}, python {sys.version.split()[0]}"
    )
    return "; ".join([line, *(found.describe(_can_write(found.path)) for found in written)])


def _can_write(path: str) -> bool:
    """Can this process create files there (Django makes a missing MEDIA_ROOT itself)?"""
    while not os.path.isdir(path) and os.path.dirname(path) != path:
        if os.path.exists(path):
            return False
        path = os.path.dirname(path)
    return os.access(path, os.W_OK | os.X_OK)


def _exec(args: list[str], env) -> int:
    try:
        init = os.path.join(os.path.dirname(sys.executable), "dumb-init")
        if os.getpid() == 1 and os.access(init, os.X_OK):
            _find(args[0], env)  # dumb-init would find a missing command too late, and exit with its own status
            os.execve(init, [init, *INIT_FLAGS, *args], env)
        os.execvpe(args[0], args, env)
    except OSError as error:
        print(f"django-asgi: cannot run {args[0]!r}: {error.strerror}", file=sys.stderr, flush=True)
        return 127 if error.errno == errno.ENOENT else 126
    return 1  # not reached


def _find(command: str, env) -> str:
    """The file execvp would run (dumb-init runs it later, too late for our exit status), or OSError."""
    candidates = [command] if "/" in command else [os.path.join(d or ".", command) for d in _path(env)]
    denied = False
    for candidate in candidates:
        if os.path.exists(candidate):
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            denied = True  # execvp says EACCES for a directory or a file without x
    code = errno.EACCES if denied else errno.ENOENT
    raise OSError(code, os.strerror(code))


def _path(env) -> list[str]:
    return env.get("PATH", os.defpath).split(os.pathsep)
