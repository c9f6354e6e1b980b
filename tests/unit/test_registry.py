"""The server registry: each server's module declares its facts, and what is written elsewhere
(the contract's help, the runner modules, the flavor table's refusals) agrees with them."""

import pathlib

import pytest

import django_asgi
from django_asgi import cli, contract, servers
from django_asgi.errors import ConfigError

PACKAGE = pathlib.Path(django_asgi.__file__).parent


@pytest.mark.parametrize("name", servers.SERVERS)
def test_each_server_declares_its_facts(name):
    server = servers.load(name)
    assert server.DISTRIBUTIONS[0] == name  # the server first, then what it runs with
    assert name in server.TAG.lower()
    assert list(server.FLAVOR_TABLE) == list(servers.load("granian").FLAVOR_TABLE)
    assert server.HARMLESS_FLAGS and server.HARMLESS_FLAGS[0].startswith("--")
    assert callable(server.plan) and callable(server.check_arguments)
    # The plain command bench/run compares the image with (bench/run runs it).
    placed = " ".join(server.PLAIN_COMMAND)
    assert all(field in placed for field in ("{app}", "{host}", "{port}"))


def test_only_the_registry_names_servers():
    # A helper module placed in servers/ is not a server; every server module is registered.
    modules = {path.stem for path in (PACKAGE / "servers").glob("*.py") if not path.stem.startswith("_")}
    assert set(servers.SERVERS) <= modules
    assert modules - set(servers.SERVERS) == {"command", "tables"}


def test_code_run_inside_a_server_is_named_after_it():
    # django_asgi/<server>_runner.py (a main process) and <server>_worker.py (in its workers).
    helpers = [path.stem for path in PACKAGE.glob("*_runner.py")] + [path.stem for path in PACKAGE.glob("*_worker.py")]
    assert helpers and {helper.rpartition("_")[0] for helper in helpers} <= set(servers.SERVERS)
    for name in servers.SERVERS:
        patches = servers.load(name).PATCHES.partition(":")[0]
        assert patches.removeprefix("django_asgi.") in helpers


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
