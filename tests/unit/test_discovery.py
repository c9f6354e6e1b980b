"""Which application is served (discovery.resolve) and whether its module can be found (discovery.check)."""

import sys

import pytest

from django_asgi import cli, contract, discovery
from django_asgi.errors import ConfigError
from tests.support.entrypoint_runs import DEFAULT_APP, config_line


def make_project(root, *packages: str, asgi: bool = True) -> None:
    for package in packages:
        (root / package).mkdir(parents=True)
        (root / package / "__init__.py").write_text("")
        if asgi:
            (root / package / "asgi.py").write_text("application = None\n")


def resolve(app_dir, **env: str) -> str:
    # Through contract.load, so DJANGO_ASGI_APP is parsed as the entrypoint parses it.
    return discovery.resolve(config(**env), app_dir)


def config(**env: str):
    return contract.load({"DJANGO_ASGI_SERVER": "granian", "WORKERS": "1", **env})


@pytest.mark.parametrize(
    "env, app",
    [
        ({"DJANGO_ASGI_APP": "mysite.asgi:application"}, "mysite.asgi:application"),
        ({"DJANGO_ASGI_APP": "mysite.asgi:app"}, "mysite.asgi:app"),
        ({"DJANGO_ASGI_APP": "mysite.asgi"}, "mysite.asgi:application"),  # bare module
        ({"DJANGO_ASGI_APP": "asgi"}, "asgi:application"),
        ({"DJANGO_SETTINGS_MODULE": "mysite.settings"}, "mysite.asgi:application"),
        ({"DJANGO_SETTINGS_MODULE": " mysite.settings "}, "mysite.asgi:application"),
        ({"DJANGO_SETTINGS_MODULE": "config.settings.production"}, "config.settings.asgi:application"),
        # The explicit variable wins over the settings module.
        ({"DJANGO_ASGI_APP": "other.asgi", "DJANGO_SETTINGS_MODULE": "mysite.settings"}, "other.asgi:application"),
        # Blank counts as unset.
        ({"DJANGO_ASGI_APP": "  ", "DJANGO_SETTINGS_MODULE": "mysite.settings"}, "mysite.asgi:application"),
    ],
)
def test_from_variables(tmp_path, env, app):
    make_project(tmp_path, "elsewhere")  # an asgi.py on disk must not win over the variables
    make_project(tmp_path, "mysite", "config", "config/settings")
    assert resolve(tmp_path, **env) == app


@pytest.mark.parametrize(
    "layout, settings_module",
    [
        # Older projects: wsgi.py only, split settings.
        ({"shop/__init__.py": "", "shop/wsgi.py": "", "shop/settings/__init__.py": "",
          "shop/settings/production.py": ""}, "shop.settings.production"),
        # A top-level settings module beside manage.py.
        ({"settings.py": "", "manage.py": ""}, "settings"),
    ],
)  # fmt: skip
def test_no_asgi_py_serves_djangos_handler(tmp_path, layout, settings_module):
    write(tmp_path, layout)
    make_project(tmp_path, "elsewhere")  # another package's asgi.py is not this project's
    assert resolve(tmp_path, DJANGO_SETTINGS_MODULE=settings_module) == discovery.DJANGO_HANDLER
    # What it must find is the settings module itself.
    discovery.check(discovery.DJANGO_HANDLER, config(DJANGO_SETTINGS_MODULE=settings_module), tmp_path)


@pytest.mark.parametrize(
    "layout, settings_module, reason",
    [
        ({}, "ghost.settings", "module ghost.settings not found: there is no ghost in {dir} or on the Python path"),
        ({"shop/__init__.py": "", "shop/settings/__init__.py": ""}, "shop.settings.production",
         "module shop.settings.production not found: "
         "package shop.settings ({dir}/shop/settings) has no module production"),
        ({}, "settings", "module settings not found: there is no settings in {dir} or on the Python path"),
    ],
)  # fmt: skip
def test_settings_module_that_cannot_be_found(tmp_path, layout, settings_module, reason):
    write(tmp_path, layout)
    env = {"DJANGO_SETTINGS_MODULE": settings_module}
    app = resolve(tmp_path, **env)
    with pytest.raises(ConfigError) as caught:
        discovery.check(app, config(**env), tmp_path)
    assert (
        caught.value.line() == f"django-asgi: DJANGO_SETTINGS_MODULE={settings_module!r}: {reason.format(dir=tmp_path)}"
    )


def write(root, layout: dict[str, str]) -> None:
    for name, text in layout.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_single_asgi_py(tmp_path):
    make_project(tmp_path, "mysite")
    make_project(tmp_path, "blog", asgi=False)
    # Directories that cannot be packages are not candidates.
    (tmp_path / "not-a-package").mkdir()
    (tmp_path / "not-a-package" / "asgi.py").write_text("")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "asgi.py").write_text("")
    assert resolve(tmp_path) == "mysite.asgi:application"


def test_several_asgi_py(tmp_path):
    make_project(tmp_path, "zeta", "alpha")
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path)
    assert caught.value.line() == (
        f"django-asgi: DJANGO_ASGI_APP: not set and {tmp_path} holds several asgi.py (alpha, zeta); set DJANGO_ASGI_APP"
    )


def test_several_asgi_py_exit_2(entrypoint, tmp_path):
    make_project(tmp_path, "one", "two")
    config_line(
        entrypoint("--dry-run", env={"DJANGO_ASGI_SERVER": "granian"}, cwd=tmp_path),
        "DJANGO_ASGI_APP: not set",
        "several asgi.py (one, two)",
    )


def test_none_found_serves_the_default_app(tmp_path):
    (tmp_path / "manage.py").write_text("")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "asgi.py").write_text("")  # only one level down is looked at
    assert resolve(tmp_path) == DEFAULT_APP == discovery.DEFAULT_APP


def test_build_uses_the_app_dir(tmp_path):
    make_project(tmp_path, "mysite")
    _, app, plan = cli.build([], {"DJANGO_ASGI_SERVER": "uvicorn", "WORKERS": "1"}, tmp_path)
    assert app == "mysite.asgi:application" and plan.env["DJANGO_ASGI_APP"] == app


# --- check: the module is found without running it ---------------------------------------------------------


def check_app(app: str, app_dir) -> None:
    discovery.check(app, config(DJANGO_ASGI_APP=app), app_dir)


def test_finds_the_module_without_running_it(tmp_path):
    # A package whose import would fail: finding it must not execute it (Django settings are not ready then).
    (tmp_path / "boom").mkdir()
    (tmp_path / "boom" / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (tmp_path / "boom" / "asgi.py").write_text("raise RuntimeError('imported')\n")
    check_app("boom.asgi:application", tmp_path)
    assert "boom" not in sys.modules and "boom.asgi" not in sys.modules


@pytest.mark.parametrize(
    "layout, app",
    [
        ({"mysite/__init__.py": "", "mysite/asgi.py": ""}, "mysite.asgi:application"),
        ({"asgi.py": ""}, "asgi:application"),
        ({"ns/asgi.py": ""}, "ns.asgi:application"),  # namespace package, no __init__.py
        ({"a/__init__.py": "", "a/b/__init__.py": "", "a/b/c.py": ""}, "a.b.c:app"),
        ({"compiled/__init__.py": "", "compiled/asgi/__init__.py": ""}, "compiled.asgi:application"),
    ],
)
def test_found_in_the_app_dir(tmp_path, layout, app):
    write(tmp_path, layout)
    check_app(app, tmp_path)


@pytest.mark.parametrize("app", [DEFAULT_APP, "django_asgi.runtime.asgi:application", "json.decoder:JSONDecoder"])
def test_found_on_the_python_path(tmp_path, app):
    check_app(app, tmp_path)


@pytest.mark.parametrize(
    "layout, app, message",
    [
        ({}, "nosuch.asgi:application",
         "module nosuch.asgi not found: there is no nosuch in {dir} or on the Python path"),
        ({}, "nosuch:application", "module nosuch not found: there is no nosuch in {dir} or on the Python path"),
        # The package is there (in the working directory), the module is not.
        ({"mysite/__init__.py": ""}, "mysite.asgi:application",
         "module mysite.asgi not found: package mysite ({dir}/mysite) has no module asgi"),
        # A module is not a package: nothing can be below it.
        ({"mysite.py": ""}, "mysite.asgi:application",
         "module mysite.asgi not found: mysite ({dir}/mysite.py) is a module, not a package"),
        ({}, "django_asgi.nosuch:application", "module django_asgi.nosuch not found: package django_asgi ("),
    ],
)  # fmt: skip
def test_missing(tmp_path, layout, app, message):
    write(tmp_path, layout)
    with pytest.raises(ConfigError) as caught:
        check_app(app, tmp_path)
    line = caught.value.line()
    assert line.startswith(f"django-asgi: DJANGO_ASGI_APP={app!r}: {message.format(dir=tmp_path)}")


def test_main_without_spec(tmp_path, monkeypatch):
    # Run as a console script, __main__ has no __spec__; looking it up must not raise ValueError.
    monkeypatch.setattr(sys.modules["__main__"], "__spec__", None)
    with pytest.raises(ConfigError):
        check_app("__main__:application", tmp_path)


def test_split_settings_find_asgi_py_higher_up(tmp_path):
    # cookiecutter-django's layout: config/settings/production.py beside config/asgi.py
    (tmp_path / "config" / "settings").mkdir(parents=True)
    (tmp_path / "config" / "asgi.py").write_text("")
    (tmp_path / "config" / "settings" / "production.py").write_text("")
    assert resolve(tmp_path, DJANGO_SETTINGS_MODULE="config.settings.production") == "config.asgi:application"


@pytest.mark.parametrize("bad", ["my-site.settings", "mysite..settings", "mysite.settings:x"])
def test_malformed_settings_module_names_the_expected_form(tmp_path, bad):
    with pytest.raises(ConfigError) as caught:
        resolve(tmp_path, DJANGO_SETTINGS_MODULE=bad)
    expected = "expected a dotted module path, such as mysite.settings"
    assert caught.value.line() == f"django-asgi: DJANGO_SETTINGS_MODULE={bad!r}: {expected}"
