"""django_asgi.runtime.inflight: the requests a stop cut, counted by the worker and summed by its manager."""

import asyncio
import importlib
import os

import pytest

from django_asgi.runtime import inflight, wrapper


@pytest.fixture
def counts(tmp_path, monkeypatch):
    """A fresh module: no request noted, markers in tmp_path, this process in start "b00t"."""
    monkeypatch.setenv("DJANGO_ASGI_BOOT_ID", "b00t")
    fresh = importlib.reload(inflight)
    monkeypatch.setattr(fresh, "MARKER_DIR", str(tmp_path))
    yield fresh
    importlib.reload(inflight)


class Timers:
    """call_later for stopping(): the callbacks, run when the test says."""

    def __init__(self) -> None:
        self.due: list[tuple[float, object]] = []

    def __call__(self, delay, callback) -> None:
        self.due.append((delay, callback))

    def run_until(self, when: float) -> None:
        for delay, callback in sorted(self.due, key=lambda item: item[0]):
            if delay <= when:
                callback()
        self.due = [(delay, callback) for delay, callback in self.due if delay > when]


def markers(tmp_path) -> dict[str, str]:
    return {path.name: path.read_text() for path in tmp_path.iterdir()}


def test_requests_ended_before_the_deadline_were_not_cut(counts, tmp_path):
    quick, slow, slower = counts.started(), counts.started(), counts.started()
    timers = Timers()
    counts.stopping(3, timers)
    counts.ended(quick)
    timers.run_until(2)  # a second before the deadline: two still run
    assert markers(tmp_path) == {f"django-asgi-cut-b00t-{os.getpid()}": "2"}
    counts.ended(slow)  # in time after all
    assert list(markers(tmp_path).values()) == ["1"]
    timers.run_until(3)
    counts.ended(slower)  # after the deadline: the server cut it, however the app ended
    assert list(markers(tmp_path).values()) == ["1"]
    assert counts.collect() == 1 and markers(tmp_path) == {}


def test_a_whole_drain_leaves_no_marker(counts, tmp_path):
    request = counts.started()
    timers = Timers()
    counts.stopping(3, timers)
    timers.run_until(2)
    counts.ended(request)
    timers.run_until(3)
    assert markers(tmp_path) == {} and counts.collect() == 0 and counts.finish() == 0


def test_a_short_timeout_marks_at_half_of_it(counts):
    timers = Timers()
    counts.stopping(1, timers)
    assert sorted(delay for delay, _ in timers.due) == [0.5, 1]


def test_the_manager_sums_its_workers_markers_only(counts, tmp_path):
    (tmp_path / "django-asgi-cut-b00t-11").write_text("2")
    (tmp_path / "django-asgi-cut-b00t-12").write_text("1")
    (tmp_path / "django-asgi-cut-b00t.1-13").write_text("4")  # a later start (django_asgi.supervise's reload)
    (tmp_path / "django-asgi-cut-other-14").write_text("8")
    assert counts.collect() == 3
    assert sorted(markers(tmp_path)) == ["django-asgi-cut-b00t.1-13", "django-asgi-cut-other-14"]


def test_a_worker_that_is_its_own_server_counts_itself(counts, tmp_path):
    counts.started()  # never ends: its server cut it
    timers = Timers()
    counts.stopping(3, timers)
    timers.run_until(3)
    assert counts.finish() == 1
    assert markers(tmp_path) == {}  # it says so itself: nothing left for a manager


def test_exit_status_says_how_many(counts, capsys):
    assert counts.exit_status(0) == 0 and capsys.readouterr().err == ""
    assert counts.exit_status(2) == counts.CUT == 5
    assert capsys.readouterr().err == (
        "django-asgi: stopped, but GRACEFUL_TIMEOUT cut 2 requests still in flight; exit status 5\n"
    )
    assert counts.exit_status(1, status=1) == 1  # a failure says more than the cut


def test_the_wrapper_notes_each_http_request(counts):
    seen = []

    async def app(scope, receive, send):
        seen.append(len(counts.running))
        if scope["path"] == "/fails":
            raise RuntimeError("the view failed")
        await send({"type": "http.response.start", "status": 204, "headers": []})

    wrapped = wrapper.wrap(app, wrapper.TrustedProxies(""))

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    for path in ("/", "/fails"):
        try:
            asyncio.run(wrapped({"type": "http", "path": path, "headers": []}, receive, send))
        except RuntimeError:
            pass
    assert seen == [1, 1] and counts.running == set()


def test_a_second_signal_keeps_the_first_deadline(counts):
    timers = Timers()
    counts.stopping(3, timers)
    counts.stopping(3, timers)
    assert sorted(delay for delay, _ in timers.due) == [2, 3]
