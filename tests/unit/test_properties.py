"""Property: whatever the environment holds, the entrypoint gives a command or one line of error, nothing else.

The bulk runs in-process on contract.load / cli.build with a dict (any string,
NUL included); a few examples go through a real `python -m django_asgi
--dry-run`, where the environment cannot hold NUL.
"""

import shlex

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from django_asgi import cli, contract
from django_asgi.errors import ConfigError
from django_asgi.servers import command
from tests.support.entrypoint_runs import SERVERS, run_entrypoint

NAMES = [variable.name for variable in contract.VARIABLES]

# Plain text finds the error paths; near-valid values make sure the Plan path is explored as well.
NEAR_VALID = st.sampled_from(
    [
        "",
        " ",
        "0",
        "1",
        "2",
        "60",
        "61",
        "8000",
        "65535",
        "65536",
        "true",
        "off",
        "debug",
        "INFO",
        "::",
        "[::]",
        "[::1]",
        "0.0.0.0",
        "::ffff:10.0.0.1",
        "fe80::1%eth0",
        "*",
        "10.0.0.0/8, ::1",
        "mysite.asgi",
        "a.b:c.d",
        "mysite.settings",
        "settings",
        "--backlog 10",
        "'unbalanced",
        "/healthz",
        *SERVERS,
    ]
)
ANY_TEXT = st.text()  # control characters and NUL included
ENV_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))  # what an environment can hold
VALUES = st.one_of(ANY_TEXT, NEAR_VALID, st.from_regex(r"\A\s*[0-9]{1,12}\s*\Z"))


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("empty-app-dir")


def check(env, app_dir) -> None:
    """build() gives a well-formed Plan, or raises ConfigError with one proper line; any other exception fails."""
    try:
        config, _app, plan = cli.build([], env, app_dir)
    except ConfigError as error:
        line = error.line()
        assert line.startswith("django-asgi: ")
        assert len(line.splitlines()) == 1 and "\n" not in line and "\r" not in line
        assert error.variable in NAMES
        return
    assert isinstance(plan, command.Plan)
    assert isinstance(plan.argv, list) and plan.argv and all(isinstance(arg, str) for arg in plan.argv)
    assert plan.argv[0]
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in plan.env.items())
    assert config.server in SERVERS and 1 <= config.port <= 65535 and config.workers >= 1


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(server=st.sampled_from(SERVERS), value=VALUES)
@example(server="granian", value="1" * 5000)  # more digits than int() accepts
@example(server="hypercorn", value="8000\n")
@example(server="daphne", value="\x00")
def test_one_variable(app_dir, name, server, value):
    env = {"DJANGO_ASGI_SERVER": server, name: value}
    check(env, app_dir)


@pytest.mark.parametrize("server", SERVERS)
@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(env=st.dictionaries(st.sampled_from(NAMES), VALUES, max_size=8))
def test_several_variables(app_dir, server, env):
    check({"DJANGO_ASGI_SERVER": server, **env}, app_dir)


@pytest.mark.parametrize("name", [name for name in NAMES if name != "DJANGO_SETTINGS_MODULE"])
@settings(max_examples=100)
@given(value=VALUES)
def test_each_value_alone(name, value):
    # contract.value() is what the healthcheck uses: the same two outcomes, one variable at a time.
    try:
        contract.value({name: value}, name)
    except ConfigError as error:
        assert error.line().startswith(f"django-asgi: {name}=") and len(error.line().splitlines()) == 1


@settings(max_examples=15)
@given(env=st.dictionaries(st.sampled_from(NAMES), st.one_of(ENV_TEXT, NEAR_VALID), min_size=1, max_size=4))
def test_through_the_real_entrypoint(app_dir, env):
    result = run_entrypoint("--dry-run", env=env, cwd=app_dir)
    assert "Traceback" not in result.stdout + result.stderr
    assert result.returncode in (0, 2), result
    if result.returncode == 2:
        assert len(result.stderr_lines) == 1 and result.stderr_lines[0].startswith("django-asgi: "), result.stderr
        assert result.stdout == ""
    else:
        assert shlex.split(result.stdout) and result.stderr == ""
