"""Projects as users write them, built by the README's recipes on every flavor: built as root, served
as the app user, state on /data, no asgi.py, compiled requirements, an older Django."""

import re

import httpx
import pytest

from django_asgi import servers
from tests.support import readme_claims
from tests.support.builds import build_on, build_recipe
from tests.support.containers import ROOT, SERVER_DATA, SERVER_FLAG, docker
from tests.support.polling import wait_for

PROJECTS = ROOT / "tests" / "container" / "projects"
APP_UID = APP_GID = 10001


@pytest.fixture
def shop_image(flavor) -> str:
    """An older project: wsgi.py only, split settings, manage.py in a sub-folder, static files collected
    into its package, psycopg2 compiled from source, Django pinned below the image's."""
    return build_on(flavor, PROJECTS / "shop", "django-asgi-shop")


@pytest.fixture
def flat_image(flavor) -> str:
    """A project whose root is a package (/app/__init__.py), with a top-level settings.py and no asgi.py,
    split requirements and a SECRET_KEY required at import."""
    return build_on(flavor, PROJECTS / "flat", "django-asgi-flat")


FLAT_ENV = {"DJANGO_SECRET_KEY": "run-time-secret"}


GALLERY = PROJECTS / "gallery"


@pytest.fixture(params=["compiled", "not compiled"])
def gallery_image(flavor, request) -> str:
    """startproject's layout with MEDIA_ROOT = BASE_DIR / "media" and FILE_UPLOAD_TEMP_DIR in the tree too;
    no DJANGO_SETTINGS_MODULE (its asgi.py sets the default). Built by the recipe (`django-asgi compile`
    records the directories), or without that step (each start reads the settings)."""
    if request.param == "compiled":
        return build_on(flavor, GALLERY, "django-asgi-gallery")
    plain = (GALLERY / "Dockerfile").read_text().replace("RUN django-asgi compile\n", "")
    assert "compile" not in plain
    return build_recipe(flavor, GALLERY, plain, "django-asgi-gallery-plain")


NOT_ON_A_VOLUME = "not on a volume: what is written there is lost when the container is replaced"


def owners(root) -> set[tuple[int, int]]:
    return {(path.lstat().st_uid, path.lstat().st_gid) for path in [root, *root.rglob("*")]}


def test_older_project_with_compiled_requirements_and_state_on_a_volume(
    shop_image, flavor, empty_volume, run_container
):
    container = run_container(
        shop_image,
        env={"DJANGO_MIGRATE": "1", "WRITABLE_DIRS": "/app/media", "WORKERS": "2"},
        docker_args=("-v", f"{empty_volume}:/data"),
    ).wait_ready(timeout=60)
    status, body = container.get("/")
    # Django's own handler serves it; the project's Django replaced the image's; psycopg2 was compiled.
    assert status == 200 and re.fullmatch(r"shop on Django 5\.2\.\d+, psycopg2 2\.9\.13 \(libpq \d+\)\n", body), body
    logs = container.logs()
    assert "serving Django's ASGI handler for shop.settings.production (no asgi.py found) on 0.0.0.0:8000" in logs
    assert re.search(r", django 5\.2\.\d+, python ", logs), logs
    # migrate ran without /app/manage.py, as the app user, into the root-owned volume.
    assert "django-asgi: running python -m django migrate --noinput" in logs
    # Writes through the app: the database on the volume, an upload in WRITABLE_DIRS.
    with httpx.Client(base_url=container.url, timeout=10) as client:
        assert [client.get("/visits/").text for _ in range(2)] == ["visits: 1\n", "visits: 2\n"]
        assert client.get("/upload/").text == f"/app/media/notes/note.txt {APP_UID}\n"
    assert (empty_volume / "shop.sqlite3").is_file()
    assert owners(empty_volume) == {(APP_UID, APP_GID)}  # no root-owned file ever lands in /data
    # collectstatic wrote into the package at build time; ServeStatic serves it.
    assert container.get("/static/shop/site.css") == (200, "body { color: #222; }\n")
    assert container.exec("test", "-e", "/usr/bin/gcc", check=False).returncode != 0  # no compiler at run time
    assert "Warning" not in container.logs()


def test_package_root_with_top_level_settings_is_served(flat_image, run_container):
    container = run_container(flat_image, env=FLAT_ENV).wait_ready()
    assert container.get("/") == (200, "flat project\n")
    assert container.get("/static/flat.css") == (200, "p { margin: 0; }\n")  # collected at build
    assert "serving Django's ASGI handler for settings (no asgi.py found)" in container.logs()


@pytest.mark.parametrize("shape", ["disable", "root-warning"])
def test_project_logging_keeps_the_access_log(flat_image, shape, run_container):
    # "disable_existing_loggers": True (as Django's documentation shows it), or a root logger at WARNING.
    container = run_container(flat_image, env={**FLAT_ENV, "LOGGING_SHAPE": shape, "WORKERS": "2"}).wait_ready()
    paths = [f"/ping/{shape}-{index}/" for index in range(3)]
    for path in paths:
        assert container.get(path)[0] == 200
    for path in paths:
        wait_for(lambda path=path: path in container.logs(), 10, message=f"the access log line of {path}")


def test_access_log_off_is_still_off_with_project_logging(flat_image, run_container):
    container = run_container(flat_image, env={**FLAT_ENV, "LOGGING_SHAPE": "disable", "ACCESS_LOG": "0"})
    container.wait_ready()
    assert container.get("/ping/quiet/")[0] == 200
    # The app answered first; the log shows nothing of that request (a server writes its line as it answers).
    assert container.get("/")[0] == 200
    assert "/ping/quiet/" not in container.logs()


def test_daphne_in_installed_apps_names_the_fix(flat_image, flavor, run_container):
    # Channels' installation guide puts "daphne" in INSTALLED_APPS; only the image that installs it has it.
    container = run_container(flat_image, env={**FLAT_ENV, "EXTRA_APPS": "daphne", "WORKERS": "2"})
    if "daphne" in servers.load(flavor).DISTRIBUTIONS:
        container.wait_ready()
        return
    code = container.wait_exit(timeout=60)
    logs = container.logs()
    assert code == readme_claims.exit_status(SERVER_DATA[flavor]["behaviour"]["boot_failure"]), logs
    assert logs.count("Traceback (most recent call last)") == 1, logs
    # After the traceback, one line of ours names the fix.
    (hint,) = [line for line in logs.splitlines() if line.startswith("django-asgi: ") and "failed to load" in line]
    assert "no module named 'daphne'" in hint and 'remove "daphne" from INSTALLED_APPS' in hint
    assert f"this image serves with {flavor}" in hint and "add daphne to your requirements" in hint


def test_dry_run_anywhere_among_the_flags(image, flavor):
    flag = SERVER_FLAG[flavor]
    result = docker("run", "--rm", image, flag[0], "--dry-run", flag[1])
    assert result.returncode == 0 and result.stdout.count("\n") == 1
    argv = result.stdout.split()
    assert "--dry-run" not in argv and argv[-3:-1] == flag
    # The app the server loads, as its folder's testing.toml says (granian: a file in its folder).
    package = re.escape("/opt/venv/lib/python3.") + r"\d+" + re.escape("/site-packages/django_asgi")
    target = re.escape(SERVER_DATA[flavor]["default_argv"][-1]).replace(re.escape("{package}"), package)
    assert re.fullmatch(target, argv[-1]), argv[-1]


def test_the_documented_recipe_for_compiled_requirements_is_the_one_built_here():
    # The shop project's Dockerfile is docs/compiled.md's recipe (the README links to it); only the bases
    # (build arguments here), the settings module and where collectstatic finds manage.py differ.
    assert "](docs/compiled.md)" in (ROOT / "README.md").read_text()
    recipe = re.findall(r"```dockerfile\n(.*?)```", (ROOT / "docs" / "compiled.md").read_text(), re.S)[0]

    def steps(text: str) -> list[str]:
        joined = text.replace("\\\n", " ")
        return [" ".join(line.split()) for line in joined.splitlines() if line.strip() and not line.startswith("#")]

    differ = ("FROM ", "ENV DJANGO_SETTINGS_MODULE", "RUN python manage.py collectstatic")
    shop = steps((PROJECTS / "shop" / "Dockerfile").read_text())
    assert [step for step in steps(recipe) if not step.startswith(differ)] == [
        step for step in shop if not step.startswith((*differ, "ARG ", "RUN python -m django collectstatic"))
    ]


def test_media_inside_the_code_tree_is_written_on_the_first_run(gallery_image, run_container):
    container = run_container(gallery_image).wait_ready("/thumbnail/first/")
    # The rendition was written into /app/media at the first view, and read back.
    assert container.get("/thumbnail/second/") == (200, "thumbnail of second\n")
    with httpx.Client(base_url=container.url, timeout=10) as client:
        # 5,000 bytes: over FILE_UPLOAD_MAX_MEMORY_SIZE, so streamed through FILE_UPLOAD_TEMP_DIR.
        response = client.post("/upload/", files={"file": ("big.bin", b"x" * 5000)})
    assert (response.status_code, response.text) == (200, f"/app/media/uploads/big.bin 5000 {APP_UID}\n")
    logs = container.logs()
    assert (
        f"; MEDIA_ROOT /app/media ({NOT_ON_A_VOLUME}); FILE_UPLOAD_TEMP_DIR /app/tmp/uploads ({NOT_ON_A_VOLUME})"
        in logs
    )
    # Nothing else of the code tree became writable by the serving user.
    found = docker("exec", "-u", f"{APP_UID}:{APP_GID}", container.name, "find", "/app", "-writable").stdout.split()
    assert sorted(path for path in found if not path.startswith(("/app/media", "/app/tmp/uploads"))) == []
    assert "/app/media/cache/thumbnails/first.txt" in found and "/app/tmp/uploads" in found
    assert container.exec("stat", "-c", "%u:%g %a", "/app/tmp").stdout.split() == ["0:0", "755"]


def test_media_on_a_volume_in_the_tree_is_handed_over_and_not_flagged(gallery_image, empty_volume, run_container):
    container = run_container(gallery_image, docker_args=("-v", f"{empty_volume}:/app/media")).wait_ready(
        "/thumbnail/first/"
    )
    assert (empty_volume / "cache" / "thumbnails" / "first.txt").read_text() == "thumbnail of first\n"
    assert owners(empty_volume) == {(APP_UID, APP_GID)}
    assert f"; MEDIA_ROOT /app/media; FILE_UPLOAD_TEMP_DIR /app/tmp/uploads ({NOT_ON_A_VOLUME})" in container.logs()


def test_media_the_serving_user_cannot_write_is_named_at_start(gallery_image, run_container):
    """Started as another user nobody can hand the tree's media over: the first line says so."""
    container = run_container(gallery_image, docker_args=("--user", f"{APP_UID}:{APP_GID}"))
    wait_for(lambda: "serving gallery.asgi:application" in container.logs(), timeout=30)
    assert (
        "; MEDIA_ROOT /app/media (not writable by the app user: set WRITABLE_DIRS or move it under /data; "
        f"{NOT_ON_A_VOLUME})"
    ) in container.logs()


def locked_recipe(tool: str) -> str:
    """The README's Dockerfile for a uv or a poetry project, as written there."""
    section = (ROOT / "README.md").read_text().split("\n### uv and poetry projects\n", 1)[1].split("\n### ", 1)[0]
    uv, poetry_stage = re.findall(r"```dockerfile\n(.*?)```", section, re.S)
    # poetry's recipe is its own first stage and the same second one.
    return uv if tool == "uv" else poetry_stage + "\n" + uv.split("\n\n", 1)[1]


@pytest.mark.parametrize(
    "tool, site, extra",
    [("uv", "uvsite", "servestatic 4.4.0"), ("poetry", "poetrysite", "django-environ 0.14.0")],
)
def test_a_locked_project_is_built_by_the_readme_recipe(tool, site, extra, flavor, run_container):
    image = build_recipe(flavor, PROJECTS / site, locked_recipe(tool), f"django-asgi-{site}")
    container = run_container(image).wait_ready()
    # The lock's versions (its Django below the image's), not its dev group; the image's server still serves.
    assert container.get("/") == (200, f"django 5.2.20 {extra} pytest absent\n")
    assert f"serving {site}.asgi:application" in container.logs()
    assert f"django-asgi: {flavor} (" in container.logs()


def test_the_build_step_writes_the_bytecode_and_records_the_media(flavor):
    image = build_on(flavor, GALLERY, "django-asgi-gallery")
    script = (
        "cat /var/lib/django-asgi/written; stat -c '%U %a' /var/lib/django-asgi/written; ls /app/gallery/__pycache__"
    )
    shown = docker("run", "--rm", "--entrypoint", "sh", image, "-c", script).stdout.splitlines()
    assert shown[:4] == [
        "/app\tgallery.settings",
        "MEDIA_ROOT\t/app/media",
        "FILE_UPLOAD_TEMP_DIR\t/app/tmp/uploads",
        "root 644",
    ]
    assert {name.split(".")[0] for name in shown[4:]} == {"__init__", "asgi", "settings", "urls", "views"}
    # What the step says in the build's output, run again here.
    result = docker("run", "--rm", image, "compile")
    assert result.stderr.splitlines() == [
        "django-asgi: compiled 6 modules under /app",
        "django-asgi: MEDIA_ROOT /app/media recorded (a start as root makes it writable)",
        "django-asgi: FILE_UPLOAD_TEMP_DIR /app/tmp/uploads recorded (a start as root makes it writable)",
    ]


def test_a_uv_project_whose_requirements_compile_is_built_by_the_builder_recipe(flavor, run_container):
    recipe = re.findall(r"```dockerfile\n(.*?)```", (ROOT / "docs" / "compiled.md").read_text(), re.S)[1]
    assert "uv export" in recipe and "FROM django-asgi:build AS wheels" in recipe
    image = build_recipe(flavor, PROJECTS / "uvcompiled", recipe, "django-asgi-uvcompiled")
    container = run_container(image).wait_ready()
    assert container.get("/") == (200, "django 5.2.20 psycopg2 2.9.13\n")  # compiled in the builder
    assert container.exec("test", "-e", "/usr/bin/gcc", check=False).returncode != 0
