"""Startup steps: migrate, collectstatic and the hook directory, before the server is exec'd."""

import os
import sys
from pathlib import Path

import pytest

from django_asgi import cli, steps
from django_asgi.errors import ConfigError
from tests.support.entrypoint_runs import DEFAULT_ARGV, needs_no_hooks


def hook(directory: Path, name: str, body: str, executable: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755 if executable else 0o644)
    return path


@pytest.mark.parametrize(
    "migrate, collectstatic, variable",
    [(True, False, "DJANGO_MIGRATE"), (False, True, "DJANGO_COLLECTSTATIC"), (True, True, "DJANGO_MIGRATE")],
)
def test_manage_py_or_settings_are_required(tmp_path, migrate, collectstatic, variable):
    with pytest.raises(ConfigError) as caught:
        steps.startup_commands(migrate, collectstatic, tmp_path, tmp_path / "no-hooks")
    assert caught.value.line() == (
        f"django-asgi: {variable}: is on but there is no manage.py in {tmp_path} and no DJANGO_SETTINGS_MODULE"
    )


def test_without_manage_py_the_settings_module_is_enough(tmp_path):
    # manage.py elsewhere (a sub-folder) or none: what it does, given DJANGO_SETTINGS_MODULE.
    assert steps.startup_commands(True, True, tmp_path, tmp_path / "no-hooks", "shop.settings") == [
        [sys.executable, "-m", "django", "migrate", "--noinput"],
        [sys.executable, "-m", "django", "collectstatic", "--noinput"],
    ]


def test_manage_py_commands(tmp_path):
    (tmp_path / "manage.py").write_text("")
    assert steps.startup_commands(True, True, tmp_path, tmp_path / "no-hooks") == [
        [sys.executable, "manage.py", "migrate", "--noinput"],
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
    ]
    assert steps.startup_commands(False, False, tmp_path, tmp_path / "no-hooks") == []


def test_hooks_in_sorted_order(tmp_path, capsys):
    hooks, log = tmp_path / "hooks", tmp_path / "log"
    for name in ("20-second.sh", "10-first", "30-third.py"):
        hook(hooks, name, f"echo {name} $(pwd) >> {log}")
    hook(hooks, "15-not-executable.sh", f"echo never >> {log}", executable=False)
    (hooks / "25-a-directory").mkdir()
    (tmp_path / "app").mkdir()

    commands = steps.startup_commands(False, False, tmp_path / "app", hooks)
    assert commands == [[str(hooks / "10-first")], [str(hooks / "20-second.sh")], [str(hooks / "30-third.py")]]
    skipped = capsys.readouterr().err.splitlines()
    assert skipped == [
        f"django-asgi: skipping {hooks / '15-not-executable.sh'}: not an executable file",
        f"django-asgi: skipping {hooks / '25-a-directory'}: not an executable file",
    ]

    steps.run(commands, tmp_path / "app")
    # In order, each in the app directory.
    assert log.read_text().splitlines() == [
        f"{name} {tmp_path / 'app'}" for name in ("10-first", "20-second.sh", "30-third.py")
    ]
    assert capsys.readouterr().err.splitlines() == [
        "django-asgi: running 10-first",
        "django-asgi: running 20-second.sh",
        "django-asgi: running 30-third.py",
    ]


def test_failing_hook_stops_the_steps(tmp_path):
    hooks, log = tmp_path / "hooks", tmp_path / "log"
    hook(hooks, "10-ok", f"echo ok >> {log}")
    hook(hooks, "20-fail", "exit 3")
    hook(hooks, "30-after", f"echo after >> {log}")
    with pytest.raises(steps.StepFailed) as caught:
        steps.run(steps.startup_commands(False, False, tmp_path, hooks), tmp_path)
    assert str(caught.value) == "django-asgi: startup step '20-fail' failed with exit status 3"
    assert caught.value.status == 3
    assert log.read_text() == "ok\n"  # nothing after the failure ran


def test_hook_that_cannot_be_run(tmp_path):
    # Executable but no "#!": exec fails (ENOEXEC), reported as status 126 like a shell would.
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "10-no-shebang").write_bytes(b"\x7fnot a program")
    (hooks / "10-no-shebang").chmod(0o755)
    with pytest.raises(steps.StepFailed) as caught:
        steps.run(steps.startup_commands(False, False, tmp_path, hooks), tmp_path)
    assert caught.value.status == 126
    assert "'10-no-shebang'" in str(caught.value)


def test_killed_hook_is_a_failure(tmp_path):
    hook(tmp_path / "hooks", "10-killed", "kill -9 $$")
    with pytest.raises(steps.StepFailed) as caught:
        steps.run(steps.startup_commands(False, False, tmp_path, tmp_path / "hooks"), tmp_path)
    assert caught.value.status == 128 + 9  # as a shell reports SIGKILL


# --- through cli: steps run after the module check and before the exec --------------------------------------


class Exec(Exception):
    """Raised by the os.execvpe stand-in: the exec would have happened here."""


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """cli.main() with HOOKS_DIR under tmp_path and the server's start (os.execvpe, or the in-process
    `python -m`) recorded instead of run."""
    app_dir, hooks = tmp_path / "app", tmp_path / "hooks"
    app_dir.mkdir()
    monkeypatch.setattr(steps, "HOOKS_DIR", hooks)
    monkeypatch.chdir(app_dir)
    for name in [name for name in os.environ if name.startswith(("DJANGO", "WORKERS", "WEB_CONCURRENCY"))]:
        monkeypatch.delenv(name)

    def fake_exec(file, args, env):
        raise Exec(file, args, env)

    monkeypatch.setattr(cli.os, "execvpe", fake_exec)
    # A `python -m` command runs in the entrypoint's process: recorded as the exec it stands for.
    monkeypatch.setattr(
        cli, "_run_module", lambda args, env: fake_exec(sys.executable, [sys.executable, "-m", *args], env)
    )

    def run(**env: str) -> int:
        for name, value in {"DJANGO_ASGI_SERVER": "granian", "WORKERS": "1", **env}.items():
            monkeypatch.setenv(name, value)
        return cli.main([])

    return app_dir, hooks, run


def test_serve_runs_hooks_then_execs(serve, capsys):
    app_dir, hooks, run = serve
    hook(hooks, "10-mark", f"touch {app_dir / 'marked'}")
    with pytest.raises(Exec) as caught:
        run()
    file, args, env = caught.value.args
    assert (file, args) == (DEFAULT_ARGV["granian"][0], DEFAULT_ARGV["granian"])
    assert env["DJANGO_ASGI_SERVER"] == "granian"
    assert (app_dir / "marked").exists()
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "django-asgi: running 10-mark"
    assert err[1].startswith("django-asgi: granian (")


def test_failing_hook_stops_startup(serve, capsys):
    _, hooks, run = serve
    hook(hooks, "10-fail", "exit 4")
    assert run() == 4  # main returned: no exec
    assert capsys.readouterr().err.splitlines()[-1] == "django-asgi: startup step '10-fail' failed with exit status 4"


def test_migrate_without_manage_py_stops_startup(serve, capsys):
    _, hooks, run = serve
    hook(hooks, "10-never", "exit 0")
    assert run(DJANGO_MIGRATE="1") == 2
    assert capsys.readouterr().err.splitlines() == [
        f"django-asgi: DJANGO_MIGRATE: is on but there is no manage.py in {Path.cwd()} and no DJANGO_SETTINGS_MODULE"
    ]


@needs_no_hooks
def test_failing_migrate_in_a_subprocess(entrypoint, tmp_path):
    # The real entrypoint: a failing manage.py migrate stops startup before the server is exec'd.
    app_dir = tmp_path / "project"
    app_dir.mkdir()
    (app_dir / "manage.py").write_text("import sys\nprint('migrating', sys.argv[1:])\nraise SystemExit(5)\n")
    result = entrypoint(env={"DJANGO_ASGI_SERVER": "granian", "DJANGO_MIGRATE": "1", "WORKERS": "1"}, cwd=app_dir)
    assert result.returncode == 5
    assert result.stdout == "migrating ['migrate', '--noinput']\n"
    name = os.path.basename(sys.executable)
    assert result.stderr_lines == [
        f"django-asgi: running {name} manage.py migrate --noinput",
        f"django-asgi: startup step '{name} manage.py migrate --noinput' failed with exit status 5",
    ]
