"""Handing the state directories to the app user (django_asgi.privileges); the switch itself is shown by
the container tests, where the entrypoint really starts as root."""

import os

import pytest

from django_asgi import privileges
from django_asgi.errors import ConfigError
from tests.support.entrypoint_runs import config_line

UID, GID = 10001, 10001
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")


def owner(path) -> tuple[int, int]:
    info = os.lstat(path)
    return info.st_uid, info.st_gid


@needs_root
def test_missing_directory_is_created_for_the_user(tmp_path):
    privileges.hand_over(str(tmp_path / "media" / "uploads"), UID, GID)
    assert owner(tmp_path / "media" / "uploads") == (UID, GID)
    assert owner(tmp_path / "media") == (0, 0)  # only the directory asked for changes hands


@needs_root
def test_root_owned_volume_is_taken_over_with_its_content(tmp_path):
    # What a fresh ext4 volume (lost+found) or an earlier root process leaves behind.
    volume, outside = tmp_path / "volume", tmp_path / "outside"
    (volume / "lost+found").mkdir(parents=True)
    (volume / "old" / "db.sqlite3").parent.mkdir()
    (volume / "old" / "db.sqlite3").write_text("")
    outside.write_text("not the volume's")
    (volume / "link").symlink_to(outside)
    volume.chmod(0o755)
    privileges.hand_over(str(volume), UID, GID)
    for path in (volume, volume / "lost+found", volume / "old", volume / "old" / "db.sqlite3", volume / "link"):
        assert owner(path) == (UID, GID), path
    assert owner(outside) == (0, 0)  # a link is taken over, never what it points to


@needs_root
@pytest.mark.parametrize("mode, group", [(0o775, GID), (0o1777, 0)], ids=["fsGroup", "world-writable"])
def test_directory_the_user_can_write_is_left_alone(tmp_path, mode, group):
    volume = tmp_path / "volume"
    volume.mkdir()
    (volume / "kept").write_text("")
    os.chown(volume, 0, group)
    volume.chmod(mode)
    privileges.hand_over(str(volume), UID, GID)
    assert owner(volume) == (0, group) and owner(volume / "kept") == (0, 0)


@pytest.mark.parametrize("path", ["/app", "/", "/opt", "/opt/venv", "/app/../opt/venv/lib/python3.13"])
def test_code_is_never_made_writable(path):
    with pytest.raises(ConfigError) as caught:
        privileges._checked((path,), "/app", venv="/opt/venv")
    assert caught.value.line().startswith("django-asgi: WRITABLE_DIRS=")
    assert "holds the project's code or the virtualenv" in caught.value.line()


def test_data_comes_first_and_data_dirs_pass():
    expected = ["/data", "/app/media", "/srv/uploads", "/opt/media"]
    assert privileges._checked(("/app/media", "/srv/uploads", "/opt/media"), "/app", venv="/opt/venv") == expected


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DJANGO_ASGI_USER": "0:0"}, "DJANGO_ASGI_USER='0:0': expected uid:gid, two numbers such as 10001:10001"),
        ({"DJANGO_ASGI_USER": "app"}, "DJANGO_ASGI_USER='app': expected uid:gid"),
        ({"DJANGO_ASGI_USER": "10001"}, "DJANGO_ASGI_USER='10001': expected uid:gid"),
        ({"WRITABLE_DIRS": "media"}, "WRITABLE_DIRS='media': expected comma-separated absolute paths"),
        ({"WRITABLE_DIRS": "/data,/"}, "WRITABLE_DIRS='/data,/': expected comma-separated absolute paths"),
    ],
)
def test_bad_user_settings_exit_2_for_any_command(entrypoint, env, message):
    # Read before anything runs, commands passed through included.
    line = config_line(entrypoint("python", "-c", "print('ran')", env=env))
    assert line.startswith(f"django-asgi: {message}")
