"""The server registry: each server is a folder that declares its facts, and what is written elsewhere
(the contract's help, the flavor table's refusals) agrees with them."""

import pathlib
import sys

import pytest

import django_asgi
from django_asgi import cli, contract, servers
from django_asgi.errors import ConfigError
from tests.support.entrypoint_runs import DATA

PACKAGE = pathlib.Path(django_asgi.__file__).parent


@pytest.mark.parametrize("name", servers.SERVERS)
def test_each_server_declares_its_facts(name):
    server = servers.load(name)
    assert server.DISTRIBUTIONS[0] == name  # the server first, then what it runs with
    assert name in server.TAG.lower()
    assert list(server.FLAVOR_TABLE) == list(servers.load(next(iter(servers.SERVERS))).FLAVOR_TABLE)
    assert callable(server.plan) and callable(server.check_arguments)
    assert all(target.startswith(f"django_asgi.servers.{name}.") for target in server.PATCHES)
    # What the tests know of it, in its folder: the harmless flag and the plain command bench/run runs.
    data = DATA[name]
    assert data["harmless_flag"][0].startswith("--") and data["refused_flag"][0].startswith("--")
    assert all(field in " ".join(data["plain_command"]) for field in ("{app}", "{host}", "{port}"))


def test_each_server_is_one_folder():
    # Every folder in servers/ is a registered server, and a server is a folder; nothing of a server
    # lies elsewhere in the package.
    folders = {path.name for path in (PACKAGE / "servers").iterdir() if (path / "__init__.py").is_file()}
    assert folders == set(servers.SERVERS)
    modules = {path.stem for path in (PACKAGE / "servers").glob("*.py")}
    assert modules == {"__init__", "command"}
    for path in PACKAGE.rglob("*.py"):
        if "servers" not in path.relative_to(PACKAGE).parts:
            assert not any(path.stem.startswith(name) for name in servers.SERVERS), path


def test_the_shared_runtime_names_no_server_and_imports_nothing_of_the_start_up_side():
    # django_asgi.runtime runs in every server's processes: it may not branch on which server loaded it
    # or reach into the entrypoint's start-up modules. (boot's hint for a missing module named daphne is
    # about Channels' INSTALLED_APPS, whichever server runs.)
    start_up = {"cli", "contract", "discovery", "parsers", "privileges", "steps", "servers", "cpus", "arguments"}
    for path in (PACKAGE / "runtime").glob("*.py"):
        text = path.read_text()
        for name in servers.SERVERS:
            assert f'"{name}" in sys.modules' not in text and f"servers.{name}" not in text, (path, name)
        for module in start_up:
            assert f"django_asgi.{module}" not in text and f"django_asgi import {module}" not in text, (path, module)


def test_loading_the_app_imports_no_start_up_module(tmp_path):
    # Behaviourally too: a worker of any server that imports the wrapper loads only the runtime.
    import subprocess

    (tmp_path / "hello.py").write_text("async def application(scope, receive, send):\n    pass\n")
    code = "import sys, django_asgi.runtime.asgi\nprint(sorted(m for m in sys.modules if m.startswith('django_asgi')))"
    env = {"DJANGO_ASGI_APP": "hello:application", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    loaded = eval(out.stdout)
    assert loaded and all(name == "django_asgi" or name.startswith("django_asgi.runtime") for name in loaded), loaded


def test_the_server_variable_names_every_server():
    (help_text,) = [variable.help for variable in contract.VARIABLES if variable.name == "DJANGO_ASGI_SERVER"]
    assert all(name in help_text for name in servers.SERVERS), help_text


@pytest.mark.parametrize("name", servers.SERVERS)
def test_the_flavor_table_says_which_servers_refuse_recycling(name, tmp_path):
    says_no = servers.load(name).FLAVOR_TABLE["Recycling (`MAX_REQUESTS`)"].startswith("no")
    build = lambda: cli.build([], {"DJANGO_ASGI_SERVER": name, "MAX_REQUESTS": "100", "WORKERS": "1"}, tmp_path)  # noqa: E731
    if says_no:
        with pytest.raises(ConfigError, match="MAX_REQUESTS"):
            build()
    else:
        assert "100" in build()[2].argv


def test_installed_versions_are_importlib_metadatas():
    # The summary line's versions, read from the .dist-info names: the same as importlib.metadata says,
    # for every distribution of this environment (and its spellings: Django, django, typing_extensions).
    from importlib.metadata import distributions, version

    names = {distribution.metadata["Name"] for distribution in distributions()}
    assert len(names) > 10
    for name in names:
        assert servers.installed(name) == version(name), name
        assert servers.installed(name.upper().replace("-", "_")) == version(name), name
    assert servers.installed("no-such-distribution") == "(not installed)"


def test_each_variable_is_written_once_and_config_holds_them_all():
    # Config's attributes are the variables' fields (and raw); every variable named anywhere in the
    # entrypoint's start-up modules is one of VARIABLES.
    import re

    config = contract.load({"DJANGO_ASGI_SERVER": "granian", "WORKERS": "1"})
    assert set(vars(config)) == {variable.field for variable in contract.VARIABLES} | {"raw"}
    names = {variable.name for variable in contract.VARIABLES}
    for path in PACKAGE.glob("*.py"):
        for read in re.findall(r"""(?:environ|env)(?:\.get\(|\[)["']([A-Z_]+)["']""", path.read_text()):
            assert read in names or read in ("PATH", "HOME"), (path.name, read)


def test_nothing_after_the_contract_reads_the_environment(tmp_path, monkeypatch):
    # cli.build parses the variables once (contract.load); discovery and the server's plan see the Config.
    loaded = []

    class Watched(dict):
        def __getitem__(self, key):
            assert not loaded, f"{key} read after contract.load"
            return super().__getitem__(key)

        def get(self, key, default=None):
            assert not loaded, f"{key} read after contract.load"
            return super().get(key, default)

    load = contract.load

    def load_then_watch(*args, **kwargs):
        config = load(*args, **kwargs)
        loaded.append(1)
        return config

    monkeypatch.setattr(contract, "load", load_then_watch)
    for name in servers.SERVERS:
        loaded.clear()
        env = Watched(DJANGO_ASGI_SERVER=name, WORKERS="2", DJANGO_SETTINGS_MODULE="mysite.settings", FLY_APP_NAME="x")
        cli.build([], env, tmp_path)
        assert loaded
