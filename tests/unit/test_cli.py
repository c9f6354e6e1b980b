"""Dispatch (`python -m django_asgi ...`) and invalid configuration, in child processes.

Serving ends in exec, so these run the entrypoint as a child. Where it would
exec a server, a fake one on PATH (conftest.fake_servers) prints the argv and
environment it got.
"""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from django_asgi import cli
from tests.support.entrypoint_runs import (
    DEFAULT_APP,
    DEFAULT_ARGV,
    DEFAULT_ENV,
    GRANIAN_RUNNER,
    GRANIAN_WRAPPER,
    SERVERS,
    WRAPPER,
    Result,
    child_env,
    config_line,
    needs_no_hooks,
    swap,
)

SERVER_NAMES = ", ".join(sorted(SERVERS))


# --- dispatch ---------------------------------------------------------------------------------------------


@needs_no_hooks
def test_no_arguments_serves(entrypoint):
    result = entrypoint(env=dict(DJANGO_ASGI_SERVER="granian", WORKERS="2", X_UNRELATED="kept"))
    assert result.returncode == 0, result
    started = json.loads(result.stdout)
    two_workers = swap(DEFAULT_ARGV["granian"], ["--workers", "1"], ["--workers", "2"])
    assert started["argv"] == two_workers[len(GRANIAN_RUNNER) :]
    assert started["env"]["X_UNRELATED"] == "kept"  # the server gets the same environment
    # granian runs in the entrypoint's own process, as `python -m` would run it there.
    assert started["in_process"] and os.path.basename(started["path0"]) == "workdir"
    # One summary line before the exec, naming server, app, bind and workers.
    (summary,) = result.stderr_lines
    assert summary.startswith("django-asgi: granian (granian ")
    assert f"serving {DEFAULT_APP} on 0.0.0.0:8000 with 2 workers, django " in summary
    # The Django actually installed (a project's requirements may replace the image's), then Python.
    assert re.search(r", django (\S+|\(not installed\)), python 3\.\d+\.\d+$", summary), summary


@needs_no_hooks
def test_serving_adds_the_plan_environment(entrypoint):
    # The server loads the wrapper, which reads the app and trusted proxies from its environment.
    result = entrypoint(
        env=dict(
            DJANGO_ASGI_SERVER="granian",
            WORKERS="1",
            FORWARDED_ALLOW_IPS="10.0.0.0/8",
            DJANGO_ASGI_APP="django_asgi.runtime.asgi",
        )
    )
    assert result.returncode == 0, result
    started = json.loads(result.stdout)
    assert started["argv"][-1] == GRANIAN_WRAPPER
    assert started["env"]["DJANGO_ASGI_APP"] == "django_asgi.runtime.asgi:application"
    assert started["env"]["DJANGO_ASGI_TRUSTED_PROXIES"] == "10.0.0.0/8"
    # Each start has its own id, under which the workers report a failing import once.
    assert re.fullmatch("[0-9a-f]{16}", started["env"]["DJANGO_ASGI_BOOT_ID"])


@needs_no_hooks
def test_flags_are_appended_to_the_server_command(entrypoint):
    result = entrypoint("--backlog", "10", "--http", "2", env=dict(DJANGO_ASGI_SERVER="granian", WORKERS="1"))
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["argv"] == [
        *DEFAULT_ARGV["granian"][len(GRANIAN_RUNNER) : -1],
        "--backlog",
        "10",
        "--http",
        "2",
        GRANIAN_WRAPPER,
    ]


def test_dry_run_with_flags(entrypoint):
    result = entrypoint("--dry-run", "--backlog", "10", env={"DJANGO_ASGI_SERVER": "granian", "WORKERS": "1"})
    assert result.returncode == 0, result
    assert shlex.split(result.stdout) == [
        *[f"{name}={value}" for name, value in DEFAULT_ENV["granian"].items()],
        *DEFAULT_ARGV["granian"][:-1],
        "--backlog",
        "10",
        GRANIAN_WRAPPER,
    ]
    assert result.stderr == ""


@pytest.mark.parametrize("args", [["--backlog", "10", "--dry-run"], ["--backlog", "--dry-run", "10"]])
def test_dry_run_anywhere_among_the_flags(entrypoint, args):
    # `docker run IMAGE --backlog 10 --dry-run` prints, it does not start a server that then fails on it.
    result = entrypoint(*args, env={"DJANGO_ASGI_SERVER": "uvicorn", "WORKERS": "1"})
    assert result.returncode == 0 and result.stderr == "", result
    assert shlex.split(result.stdout)[-3:] == ["--backlog", "10", WRAPPER]


@pytest.mark.parametrize("server", SERVERS)
@pytest.mark.parametrize(
    "env",
    [
        {"WORKERS": "1"},
        {"WORKERS": "3", "HOST": "::", "FORWARDED_ALLOW_IPS": "*", "SERVER_ARGS": "--x 'a b'"},
        {"WORKERS": "2", "RELOAD": "1", "DJANGO_ASGI_APP": "mysite.asgi", "ACCESS_LOG": "0"},
    ],
    ids=["plain", "ipv6-proxies", "reload"],
)
def test_dry_run_prints_the_plan(entrypoint, tmp_path, server, env):
    # The printed command, split like a shell would, is the environment additions then the argv of build().
    result = entrypoint("--dry-run", env={"DJANGO_ASGI_SERVER": server, **env})
    assert result.returncode == 0, result
    _, _, plan = cli.build([], {"DJANGO_ASGI_SERVER": server, **env}, tmp_path)
    assert shlex.split(result.stdout) == [f"{key}={value}" for key, value in plan.env.items()] + plan.argv


def test_other_first_argument_is_executed_with_the_same_environment(entrypoint):
    # No configuration is read for it: DJANGO_ASGI_SERVER unset and a bad PORT do not matter.
    result = entrypoint("python", "-c", "import os; print(os.environ['X'])", env={"X": "hello world", "PORT": "abc"})
    assert (result.returncode, result.stdout, result.stderr) == (0, "hello world\n", "")


def test_command_replaces_the_entrypoint(tmp_path):
    # exec, not a child: same pid (signals reach the command), and its exit status is the container's.
    process = subprocess.Popen(
        [sys.executable, "-m", "django_asgi", "python", "-c", "import os; print(os.getpid()); raise SystemExit(7)"],
        env=child_env(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
    )
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 7
    assert int(out) == process.pid


def test_unknown_command(entrypoint):
    result = entrypoint("no-such-command-xyz", "arg", env={"DJANGO_ASGI_SERVER": "granian"})
    assert result.returncode == 127
    assert result.stderr_lines == ["django-asgi: cannot run 'no-such-command-xyz': No such file or directory"]
    assert result.stdout == ""


def test_command_that_is_not_executable(entrypoint, tmp_path):
    script = tmp_path / "script.sh"
    script.write_text("#!/bin/sh\necho hi\n")  # no x bit
    result = entrypoint(str(script))
    assert result.returncode == 126
    assert result.stderr_lines == [f"django-asgi: cannot run {str(script)!r}: Permission denied"]


# --- invalid configuration ----------------------------------------------------------------------------------

FULL_WIDTH_8000 = "\uff18\uff10\uff10\uff10"  # int() would take these digits
LONG = "1" * 5000  # past int()'s 4300-digit limit

INVALID = [
    ({"PORT": "abc"}, "PORT='abc': expected a whole number from 1 to 65535"),
    ({"PORT": "0"}, "PORT='0': expected a whole number from 1 to 65535"),
    ({"PORT": "70000"}, "PORT='70000': expected a whole number from 1 to 65535"),
    ({"PORT": "-1"}, "PORT='-1': expected a whole number"),
    ({"PORT": "8_000"}, "PORT='8_000': expected a whole number"),
    ({"PORT": FULL_WIDTH_8000}, f"PORT='{FULL_WIDTH_8000}': expected a whole number"),
    ({"PORT": "80\n80"}, "PORT='80\\n80': expected a whole number"),  # the line break is shown escaped
    ({"PORT": LONG}, f"PORT='{LONG[:77]}...': expected a whole number"),
    ({"WORKERS": "0"}, "WORKERS='0': expected a whole number from 1 to 1024"),
    ({"WORKERS": "x"}, "WORKERS='x': expected a whole number from 1 to 1024"),
    ({"WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY='many': expected a whole number from 1 to 1024"),
    ({"GRACEFUL_TIMEOUT": "0"}, "GRACEFUL_TIMEOUT='0': expected a whole number from 1 to 3600"),
    ({"KEEP_ALIVE": "5s"}, "KEEP_ALIVE='5s': expected a whole number from 1 to 3600"),
    ({"MAX_REQUEST_BODY": "100MB!"}, "MAX_REQUEST_BODY='100MB!': expected a size in bytes, with K, M or G"),
    ({"MAX_REQUEST_BODY": "0"}, "MAX_REQUEST_BODY='0': expected a size in bytes"),
    ({"MAX_WEBSOCKET_MESSAGE": "1T"}, "MAX_WEBSOCKET_MESSAGE='1T': expected a size in bytes"),
    ({"MAX_REQUESTS": "0"}, "MAX_REQUESTS='0': expected a whole number from 1 to 100000000"),
    ({"LOG_LEVEL": "verbose"}, "LOG_LEVEL='verbose': expected one of debug, info, warning, error, critical"),
    ({"ACCESS_LOG": "maybe"}, "ACCESS_LOG='maybe': expected one of 1/0, true/false, yes/no, on/off"),
    ({"RELOAD": "2"}, "RELOAD='2': expected one of 1/0, true/false, yes/no, on/off"),
    ({"DJANGO_MIGRATE": "y"}, "DJANGO_MIGRATE='y': expected one of 1/0"),
    ({"DJANGO_COLLECTSTATIC": "please"}, "DJANGO_COLLECTSTATIC='please': expected one of 1/0"),
    (
        {"DJANGO_ASGI_APP": "my-site.asgi"},
        "DJANGO_ASGI_APP='my-site.asgi': expected module.path:attribute, such as mysite.asgi:application",
    ),
    ({"DJANGO_ASGI_APP": "mysite.asgi:"}, "DJANGO_ASGI_APP='mysite.asgi:': expected module.path:attribute"),
    ({"DJANGO_ASGI_APP": "mysite/asgi.py"}, "DJANGO_ASGI_APP='mysite/asgi.py': expected module.path:attribute"),
    ({"DJANGO_ASGI_APP": "a:b:c"}, "DJANGO_ASGI_APP='a:b:c': expected module.path:attribute"),
    ({"DJANGO_ASGI_SERVER": "nginx"}, f"DJANGO_ASGI_SERVER='nginx': expected one of {SERVER_NAMES}"),
    ({"DJANGO_ASGI_SERVER": None}, f"DJANGO_ASGI_SERVER: not set; expected one of {SERVER_NAMES}"),
    ({"DJANGO_ASGI_SERVER": "  "}, f"DJANGO_ASGI_SERVER: not set; expected one of {SERVER_NAMES}"),
    ({"HOST": "localhost"}, "HOST='localhost': expected an IP address to bind to, such as 0.0.0.0 or ::"),
    ({"HOST": "0.0.0.0:8000"}, "HOST='0.0.0.0:8000': expected an IP address"),
    ({"HOST": "[::1"}, "HOST='[::1': expected an IP address"),
    ({"HOST": "010.0.0.1"}, "HOST='010.0.0.1': expected an IP address"),
    (
        {"FORWARDED_ALLOW_IPS": "10.0.0.0/33"},
        "FORWARDED_ALLOW_IPS='10.0.0.0/33': expected * or a comma-separated list of IP addresses or networks",
    ),
    ({"FORWARDED_ALLOW_IPS": "proxy.internal"}, "FORWARDED_ALLOW_IPS='proxy.internal': expected * or"),
    ({"FORWARDED_ALLOW_IPS": "*,10.0.0.1"}, "FORWARDED_ALLOW_IPS='*,10.0.0.1': expected * or"),
    (
        {"SERVER_ARGS": "--name 'unbalanced"},
        'SERVER_ARGS="--name \'unbalanced": expected shell-quoted arguments (No closing quotation)',
    ),
    ({"SERVER_ARGS": "--x \\"}, "SERVER_ARGS='--x \\\\': expected shell-quoted arguments (No escaped character)"),
    ({"DJANGO_ASGI_SERVER": "daphne", "MAX_REQUESTS": "100"}, "MAX_REQUESTS='100': daphne cannot recycle workers"),
    ({"DJANGO_ASGI_SERVER": "granian", "MAX_REQUESTS": "100"}, "MAX_REQUESTS='100': granian cannot recycle workers"),
    ({"DJANGO_ASGI_SERVER": "granian", "KEEP_ALIVE": "90"}, "KEEP_ALIVE='90': granian allows at most 60 seconds"),
    # No asgi.py to derive: Django's own handler, for which the settings module must be there.
    (
        {"DJANGO_SETTINGS_MODULE": "settings"},
        "DJANGO_SETTINGS_MODULE='settings': module settings not found: there is no settings in ",
    ),
    ({"DJANGO_SETTINGS_MODULE": "my-site.settings"}, "DJANGO_SETTINGS_MODULE='my-site.settings': expected"),
    # Several bad values: still one line, for the first in the variable reference's order.
    ({"PORT": "abc", "WORKERS": "x", "HOST": "nowhere"}, "HOST='nowhere': expected"),
]


@pytest.mark.parametrize("env, message", INVALID, ids=[repr(row[0])[:60] for row in INVALID])
def test_invalid_configuration(entrypoint, env, message):
    # Serving (no --dry-run): were the value accepted, the fake server would run and exit 0 instead.
    env = {"DJANGO_ASGI_SERVER": "uvicorn", **env}
    env = {key: value for key, value in env.items() if value is not None}
    line = config_line(entrypoint(env=env))
    assert line.startswith(f"django-asgi: {message}")


def test_invalid_configuration_with_dry_run(entrypoint):
    config_line(entrypoint("--dry-run", env={"DJANGO_ASGI_SERVER": "granian", "PORT": "abc"}), "PORT='abc'")


# --- the module check before exec --------------------------------------------------------------------------


def test_missing_module(entrypoint):
    line = config_line(entrypoint(env={"DJANGO_ASGI_SERVER": "granian", "DJANGO_ASGI_APP": "nosuchmodule.asgi"}))
    assert line.startswith(
        "django-asgi: DJANGO_ASGI_APP='nosuchmodule.asgi:application': module nosuchmodule.asgi not found"
    )


def test_missing_module_is_not_checked_by_dry_run(entrypoint):
    # --dry-run only prints: it may run where the project is not.
    result = entrypoint("--dry-run", env={"DJANGO_ASGI_SERVER": "granian", "DJANGO_ASGI_APP": "nosuchmodule.asgi"})
    assert result.returncode == 0 and shlex.split(result.stdout)[0] == "DJANGO_ASGI_APP=nosuchmodule.asgi:application"


def test_missing_module_in_an_existing_package(entrypoint, tmp_path):
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "__init__.py").write_text("")
    line = config_line(
        entrypoint(env={"DJANGO_ASGI_SERVER": "granian", "DJANGO_ASGI_APP": "mysite.asgi"}, cwd=tmp_path)
    )
    assert line.startswith("django-asgi: DJANGO_ASGI_APP='mysite.asgi:application': module mysite.asgi not found")


def test_missing_settings_module_names_the_settings_variable(entrypoint, tmp_path):
    line = config_line(entrypoint(env={"DJANGO_ASGI_SERVER": "granian", "DJANGO_SETTINGS_MODULE": "ghost.settings"}))
    # The variable's own value, the module looked for and why it is not there.
    assert line == (
        "django-asgi: DJANGO_SETTINGS_MODULE='ghost.settings': module ghost.settings not found: "
        f"there is no ghost in {tmp_path / 'workdir'} or on the Python path"
    )


@needs_no_hooks
def test_project_without_asgi_py_is_served_by_djangos_handler(entrypoint, tmp_path):
    # An older project: wsgi.py only, split settings.
    for name in ("shop/__init__.py", "shop/wsgi.py", "shop/settings/__init__.py", "shop/settings/production.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    env = {"DJANGO_ASGI_SERVER": "granian", "WORKERS": "1", "DJANGO_SETTINGS_MODULE": "shop.settings.production"}
    result = entrypoint(env=env, cwd=tmp_path)
    assert result.returncode == 0, result
    assert json.loads(result.stdout)["env"]["DJANGO_ASGI_APP"] == "django_asgi.runtime.django_handler:application"
    (summary,) = result.stderr_lines
    assert " serving Django's ASGI handler for shop.settings.production (no asgi.py found) on " in summary


def test_main_module_name_through_the_console_script(tmp_path):
    # Under the console script __main__ has no __spec__; looking it up used to raise ValueError (a traceback).
    script = Path(sys.executable).parent / "django-asgi"
    if not script.exists():
        pytest.skip("no django-asgi console script next to this interpreter")
    completed = subprocess.run(
        [str(script)],
        env=child_env(DJANGO_ASGI_SERVER="granian", DJANGO_ASGI_APP="__main__"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    config_line(
        Result(completed.returncode, completed.stdout, completed.stderr), "DJANGO_ASGI_APP='__main__:application'"
    )
