"""Where the project writes, read from its settings in a child (django_asgi.media).

The settings are imported through a stand-in `django.conf` (the test tools carry no Django; the
container tests run the real one): what matters here is the child, its deadline and what it reports.
"""

import os
import sys
import time

import pytest

from django_asgi import media

# django.conf.settings as Django gives it: the attributes of DJANGO_SETTINGS_MODULE, Django's
# defaults ("" and None) where the module does not set them.
STAND_IN = """
import importlib, os

class Settings:
    def __getattr__(self, name):
        module = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
        return getattr(module, name, {"MEDIA_ROOT": "", "FILE_UPLOAD_TEMP_DIR": None}.get(name))

settings = Settings()
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "django" / "conf").mkdir(parents=True)
    (tmp_path / "django" / "__init__.py").write_text("")
    (tmp_path / "django" / "conf" / "__init__.py").write_text(STAND_IN)
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "__init__.py").write_text("")
    monkeypatch.delitem(sys.modules, "django", raising=False)

    def settings(text: str) -> str:
        (tmp_path / "mysite" / "settings.py").write_text(text)
        return str(tmp_path)

    return settings


def test_media_in_the_tree_is_found_and_named_inside(project):
    app_dir = project('from pathlib import Path\nMEDIA_ROOT = Path(__file__).parent.parent / "media"\n')
    (found,) = media.probe("mysite.settings", app_dir, None)
    assert found == media.Written("MEDIA_ROOT", os.path.join(app_dir, "media"), inside=True, on_volume=False)
    assert found.describe(writable=True) == (
        f"MEDIA_ROOT {app_dir}/media (not on a volume: what is written there is lost when the container is replaced)"
    )


def test_both_settings_relative_and_outside(project):
    app_dir = project('MEDIA_ROOT = "uploads"\nFILE_UPLOAD_TEMP_DIR = "/proc/outside"\n')
    found = media.probe("mysite.settings", app_dir, None)
    assert [(w.setting, w.path, w.inside, w.on_volume) for w in found] == [
        ("MEDIA_ROOT", os.path.join(app_dir, "uploads"), True, False),
        ("FILE_UPLOAD_TEMP_DIR", "/proc/outside", False, True),  # /proc is a mount of its own
    ]


def test_the_default_settings_name_nothing(project):
    assert media.probe("mysite.settings", project("DEBUG = False\n"), None) == []


def test_settings_that_fail_name_nothing_and_print_nothing(project, capfd):
    app_dir = project('print("loading settings")\nraise RuntimeError("no SECRET_KEY")\n')
    assert media.probe("mysite.settings", app_dir, None) == []
    assert capfd.readouterr() == ("", "")  # the server imports them again and reports it, once


def test_settings_that_hang_are_given_up_at_the_deadline(project):
    app_dir = project('import time\ntime.sleep(60)\nMEDIA_ROOT = "/never"\n')
    started = time.monotonic()
    assert media.probe("mysite.settings", app_dir, None, deadline=0.5) == []
    assert time.monotonic() - started < 5  # the child is killed, not waited for


def test_the_settings_module_comes_from_the_variable_or_the_apps_default(tmp_path):
    assert media.settings_module("shop.settings.production", "shop.asgi:application", str(tmp_path)) == (
        "shop.settings.production"
    )
    (tmp_path / "mysite").mkdir()
    (tmp_path / "mysite" / "asgi.py").write_text(
        "import os\nfrom django.core.asgi import get_asgi_application\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'mysite.settings')\napplication = get_asgi_application()\n"
    )
    assert media.settings_module(None, "mysite.asgi:application", str(tmp_path)) == "mysite.settings"
    (tmp_path / "mysite" / "asgi.py").write_text("import os\nos.environ.setdefault('OTHER', 'x')\n")
    assert media.settings_module(None, "mysite.asgi:application", str(tmp_path)) is None
    assert media.settings_module(None, "django_asgi.default_app.asgi:application", str(tmp_path)) is None


def test_a_note_for_media_the_user_cannot_write():
    written = media.Written("MEDIA_ROOT", "/srv/media", inside=False, on_volume=True)
    assert written.describe(writable=False) == (
        "MEDIA_ROOT /srv/media (not writable by the app user: set WRITABLE_DIRS or move it under /data)"
    )
    assert written.describe(writable=True) == "MEDIA_ROOT /srv/media"


def test_the_build_records_and_a_start_reads_the_record(project, tmp_path):
    app_dir = project('MEDIA_ROOT = "/app-media-nowhere"\nFILE_UPLOAD_TEMP_DIR = "tmp/uploads"\n')
    record = str(tmp_path / "state" / "written")
    built = media.record("mysite.settings", app_dir, path=record)
    assert [(w.setting, w.path, w.inside) for w in built] == [
        ("MEDIA_ROOT", "/app-media-nowhere", False),
        ("FILE_UPLOAD_TEMP_DIR", os.path.join(app_dir, "tmp", "uploads"), True),
    ]
    assert media.recorded("mysite.settings", app_dir, path=record) == built
    # Another settings module or working directory than the build's: no record, the start reads them.
    assert media.recorded("mysite.other", app_dir, path=record) is None
    assert media.recorded("mysite.settings", "/elsewhere", path=record) is None
    assert media.recorded("mysite.settings", app_dir, path=str(tmp_path / "none")) is None


def test_settings_that_do_not_import_at_build_record_nothing(project, tmp_path):
    app_dir = project('raise KeyError("DJANGO_SECRET_KEY")\n')
    assert media.record("mysite.settings", app_dir, path=str(tmp_path / "written")) is None
    assert not (tmp_path / "written").exists()


def test_a_folder_of_python_modules_is_never_taken_for_media(project):
    app_dir = project("from pathlib import Path\nMEDIA_ROOT = Path(__file__).parent\n")
    (found,) = media.probe("mysite.settings", app_dir, None)
    assert (found.path, found.inside) == (os.path.join(app_dir, "mysite"), False)
