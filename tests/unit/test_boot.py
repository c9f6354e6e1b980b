"""Loading the app in a worker: a failure is reported once per start, whatever the number of workers."""

import subprocess
import sys

import pytest

from django_asgi.runtime.boot import BOOT_ERROR, first_to_fail, load
from tests.support.entrypoint_runs import child_env

FAILING = "raise RuntimeError('unit: broken at import')\n"


def test_load(tmp_path, monkeypatch):
    # The app module is looked for in the working directory, and the attribute may be dotted.
    (tmp_path / "unit_boot_target.py").write_text("class app:\n    inner = 'found'\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "unit_boot_target", raising=False)
    assert load("unit_boot_target:app.inner") == "found"
    assert load("os.path:join") is __import__("os").path.join


def start_workers(tmp_path, count: int, **env: str) -> list[subprocess.Popen]:
    (tmp_path / "broken_app.py").write_text(FAILING)
    markers = tmp_path / "markers"
    markers.mkdir(exist_ok=True)
    code = (
        "from django_asgi.runtime.boot import load_or_exit; "
        f"load_or_exit('broken_app:application', marker_dir={str(markers)!r})"
    )
    return [
        subprocess.Popen(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env=child_env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(count)
    ]


def test_workers_of_one_start_report_once(tmp_path):
    workers = start_workers(tmp_path, 4, DJANGO_ASGI_BOOT_ID="0123abcd")
    outputs = [worker.communicate(timeout=30) for worker in workers]
    stderr = "".join(err for _, err in outputs)
    assert stderr.count("Traceback (most recent call last)") == 1
    assert stderr.count("RuntimeError: unit: broken at import") == 1
    assert stderr.count("django-asgi: broken_app:application failed to load; stopping") == 1
    # The reporting worker exits BOOT_ERROR (managers stop on it); the silent ones 1.
    assert sorted(worker.returncode for worker in workers) == [1, 1, 1, BOOT_ERROR]


def test_a_new_start_reports_again(tmp_path):
    for boot_id in ("aaaa", "aaaa.1"):
        (worker,) = start_workers(tmp_path, 1, DJANGO_ASGI_BOOT_ID=boot_id)
        assert "Traceback" in worker.communicate(timeout=30)[1] and worker.returncode == BOOT_ERROR


@pytest.mark.parametrize("boot_id", ["", "../escape", "a b"])
def test_without_a_usable_id_every_failure_is_reported(tmp_path, boot_id):
    assert first_to_fail({"DJANGO_ASGI_BOOT_ID": boot_id}, str(tmp_path))
    assert first_to_fail({"DJANGO_ASGI_BOOT_ID": boot_id}, str(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_unwritable_markers_report_rather_than_hide(tmp_path):
    assert first_to_fail({"DJANGO_ASGI_BOOT_ID": "abc"}, str(tmp_path / "missing"))


COLLECTOR_APP = "import gc\ncollecting_at_import = gc.isenabled()\napplication = object()\n"
REPORT = (
    "import gc, django_asgi.runtime.asgi, unit_gc_app; "
    "print(unit_gc_app.collecting_at_import, gc.isenabled(), gc.get_freeze_count())"
)


@pytest.mark.parametrize(
    ("before", "expected"),
    [("", ("False", "True")), ("import gc; gc.disable(); ", ("False", "False"))],
    ids=["collector on", "collector turned off before"],
)
def test_the_collector_rests_while_the_app_is_imported(tmp_path, before, expected):
    # django_asgi.runtime.collector: off during the import, on again after it with what the import made frozen;
    # a collector turned off before (by a server, or a project) is left off.
    (tmp_path / "unit_gc_app.py").write_text(COLLECTOR_APP)
    env = child_env(DJANGO_ASGI_APP="unit_gc_app:application")
    out = subprocess.run([sys.executable, "-c", before + REPORT], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True).stdout.split()  # fmt: skip
    assert tuple(out[:2]) == expected
    assert (int(out[2]) > 1000) == (expected[1] == "True"), out
