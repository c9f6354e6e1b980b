"""A bad day for each flavor: signals under load, crashed and recycled workers, abusive clients.

Each case is bounded in requests and time. The short version runs with the
suite; `--long` runs them at full length and writes docs/reliability.md from
the figures recorded here.
"""

import asyncio
import collections
import re
import signal
import threading
import time

import pytest

from tests.support import readme_claims
from tests.support.containers import SERVER_DATA, docker
from tests.support.load import NO_RESPONSE, Run, get, load, request
from tests.support.polling import wait_for

pytestmark = pytest.mark.reliability

GRACEFUL = 10
MARGIN = 5  # seconds past GRACEFUL_TIMEOUT a stop may take
# The flavor table's "yes"; the others refuse MAX_REQUESTS.
RECYCLING = readme_claims.flavors("Recycling (`MAX_REQUESTS`)", lambda cell: cell == "yes")


class Background:
    """A load run in a thread, stopped by stop() or by its own bounds."""

    def __init__(self, url: str, paths, **options) -> None:
        self.run = Run()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._main, args=(url, paths, options))
        self._thread.start()

    def _main(self, url, paths, options) -> None:
        async def main():
            self.run = await load(url, paths, stop=self._stop, **options, into=self.run)

        self._loop.run_until_complete(main())

    def ok(self, since: float = 0.0) -> int:
        """Responses to requests begun at `since` (monotonic) or later."""
        return sum(record.ok for record in list(self.run.records) if record.started >= since)

    def ended_since(self, since: float) -> int:
        """Requests begun at `since` or later that have ended, answered or not."""
        return sum(record.done > 0 for record in list(self.run.records) if record.started >= since)

    def stop(self) -> Run:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)
        assert not self._thread.is_alive(), "the load did not stop"
        return self.run


def counter(template: str):
    numbers = iter(range(10**9))
    return lambda: template.format(next(numbers))


def send_raw(container, raw: bytes, timeout: float = 15) -> str:
    """Send raw bytes on a new connection; the status, or how the connection ended."""
    host, port = container.address

    async def main():
        try:
            return str((await request(host, port, raw, timeout=timeout))[0])
        except TimeoutError:
            return "no answer"
        except NO_RESPONSE as error:
            return f"closed ({type(error).__name__})"

    return asyncio.run(main())


def rss_kib(container, pid: int) -> int:
    status = container.exec("cat", f"/proc/{pid}/status").stdout
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


@pytest.mark.core
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_rolling_restart_loses_no_accepted_request(probe_image, flavor, signum, run_container, figures, long):
    container = run_container(probe_image, env={"WORKERS": "2", "GRACEFUL_TIMEOUT": str(GRACEFUL)}).wait_ready()
    background = Background(
        container.url,
        counter("/slow/?seconds=0.5&id={}"),
        concurrency=16,
        count=100_000,
        deadline=time.monotonic() + 120,
    )
    warm = 2000 if long else 100
    wait_for(lambda: background.ok() >= warm, 90, message=f"{warm} responses before the signal")
    signalled = time.monotonic()
    docker("kill", "--signal", signum.name, container.name)
    code = container.wait_exit(timeout=GRACEFUL + MARGIN + 10)
    stopped = time.monotonic() - signalled
    # Keep knocking after the exit: those attempts must end promptly (each client tries again at once).
    exited = time.monotonic()
    wait_for(lambda: background.ended_since(exited) >= 16, 10, message="attempts after the exit")
    run = background.stop()
    logs = container.logs()

    started = set(re.findall(r"probe: started (\d+)", logs))

    def was_started(record) -> bool:
        return record.path.rpartition("=")[2] in started

    accepted = [r for r in run.records if was_started(r)]
    lost = [r for r in accepted if not r.ok]
    before = [r for r in run.records if r.sent is not None and r.sent < signalled]
    after = [r for r in run.records if r.started >= signalled]
    slowest_refusal = max((r.done - r.started for r in after if not r.ok), default=0.0)
    figures(
        flavor,
        f"restart {signum.name}",
        sent=len(run.records),
        accepted=len(accepted),
        lost=len(lost),
        sent_before_not_started=sum(not r.ok and not was_started(r) for r in before),
        exit_s=round(stopped, 2),
        exit_code=code,
        slowest_refusal_s=round(slowest_refusal, 3),
    )

    assert not lost, f"{len(lost)} of {len(accepted)} accepted requests failed: {lost[:3]}\n{logs[-3000:]}"
    assert stopped < GRACEFUL + MARGIN, f"took {stopped:.1f} s to stop"
    assert code == 0, logs[-3000:]
    assert slowest_refusal < 2, f"a request after the signal took {slowest_refusal:.1f} s to be turned away"


def newest_worker(container, known: set[int]) -> int | None:
    """A pid not in `known` that served a request on a fresh connection, if any."""
    host, port = container.address

    async def main():
        try:
            _, headers, _ = await request(host, port, get("/", keep_alive=False), timeout=2)
        except NO_RESPONSE:
            return None
        pid = int(headers.get("x-worker-pid", 0))
        return pid if pid and pid not in known else None

    return asyncio.run(main())


@pytest.mark.core
def test_killed_worker_is_replaced(probe_image, flavor, run_container, figures, long):
    container = run_container(probe_image, env={"WORKERS": "2"}).wait_ready()
    background = Background(container.url, lambda: "/", concurrency=8, count=1_000_000, deadline=time.monotonic() + 120)
    wait_for(lambda: background.ok() >= (20_000 if long else 500), 90, message="load before the kill")
    served = [r.pid for r in list(background.run.records) if r.pid]
    victim = max(set(served), key=served.count)
    known = set(served)
    killed = time.monotonic()
    container.exec("python", "-c", f"import os, signal; os.kill({victim}, signal.SIGKILL)")
    replacement = wait_for(lambda: newest_worker(container, known), 10, interval=0.05, message="a new worker to serve")
    respawn = time.monotonic() - killed
    # The load goes on with the new worker in place: nothing more may fail.
    calm_from = time.monotonic()
    calm = 20_000 if long else 500
    wait_for(lambda: background.ok(since=calm_from) >= calm, 60, message=f"{calm} responses after the respawn")
    run = background.stop()

    failed = [r for r in run.records if not r.ok]
    elsewhere = [r for r in failed if r.connection_pid not in (None, victim)]
    late = [r for r in failed if r.started > calm_from]
    figures(
        flavor,
        "worker crash",
        sent=len(run.records),
        failed=len(failed),
        failed_elsewhere=len(elsewhere),
        respawn_s=round(respawn, 2),
    )

    assert container.running()
    assert replacement != victim
    assert respawn < 5, f"a new worker served after {respawn:.1f} s"
    assert not elsewhere, f"requests on other workers failed: {elsewhere[:3]}"
    assert not late, f"{len(late)} requests failed after the new worker was serving: {late[:3]}"
    assert len(failed) <= 8, f"{len(failed)} failed; the killed worker had at most 8 requests in flight"


def test_recycling_loses_nothing(probe_image, flavor, run_container, figures, long):
    if flavor not in RECYCLING:
        result = docker("run", "--rm", "-e", "MAX_REQUESTS=100", probe_image, check=False)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        figures(flavor, "recycling", refused=result.stderr.strip().removeprefix("django-asgi: "))
        return
    container = run_container(probe_image, env={"WORKERS": "2", "MAX_REQUESTS": "100"}).wait_ready()
    total = 30_000 if long else 2_000
    run = asyncio.run(load(container.url, lambda: "/", concurrency=8, count=total, deadline=time.monotonic() + 300))
    failed = run.failed()
    figures(flavor, "recycling", sent=len(run.records), failed=len(failed), workers_seen=len(run.pids()))

    assert len(run.records) == total
    assert len(run.pids()) > 2, "no worker was replaced"
    assert not failed, f"{len(failed)} failed: {failed[:3]}"


@pytest.mark.core
@pytest.mark.parametrize("flavor", RECYCLING)
def test_recycling_counts_requests_not_connections(probe_image, flavor, run_container, figures):
    # One keep-alive client: each worker serves MAX_REQUESTS, however fast the requests come (uvicorn:
    # plus gunicorn's jitter, a tenth; hypercorn: plus one, as it stops once its count passes the limit,
    # hypercorn/asyncio/worker_context.py mark_request).
    container = run_container(probe_image, env={"WORKERS": "2", "MAX_REQUESTS": "20"}).wait_ready()
    run = asyncio.run(load(container.url, lambda: "/", concurrency=1, count=300, deadline=time.monotonic() + 120))
    served = collections.Counter(record.pid for record in run.records if record.ok)
    figures(flavor, "requests per worker, MAX_REQUESTS=20, one keep-alive client", most=max(served.values()),
            workers=len(served))  # fmt: skip
    assert not run.failed() and sum(served.values()) == 300
    assert max(served.values()) <= 20 + SERVER_DATA[flavor]["behaviour"]["max_requests_overshoot"], served


def test_slow_clients_do_not_starve_others(probe_image, flavor, run_container, figures, long):
    container = run_container(probe_image, env={"WORKERS": "2"}).wait_ready()
    host, port = container.address
    duration = 60 if long else 8
    trickle = b"GET / HTTP/1.1\r\nHost: probe\r\nX-Slow: " + b"s" * 1000

    trickling = []  # a slow client appends once its first byte is out

    async def slow_client(until: float) -> bool:
        """Sends one header byte a second; True when the server closed the connection."""
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for index, byte in enumerate(trickle):
                if time.monotonic() > until:
                    return False
                writer.write(bytes([byte]))
                await writer.drain()
                if index == 0:
                    trickling.append(1)
                try:
                    # A second between bytes, spent noticing the server closing the connection.
                    await asyncio.wait_for(reader.read(1024), 1)
                    return True
                except TimeoutError:
                    pass
        except OSError:
            return True
        finally:
            writer.close()
        return False

    async def normal_client(until: float) -> list[tuple[float, str]]:
        answers = []
        while time.monotonic() < until:
            began = time.monotonic()
            try:
                status = str((await request(host, port, get("/", keep_alive=False), timeout=5))[0])
            except NO_RESPONSE as error:
                status = type(error).__name__
            answers.append((time.monotonic() - began, status))
            await asyncio.sleep(0.2)
        return answers

    async def main():
        until = time.monotonic() + duration
        slow = [asyncio.create_task(slow_client(until)) for _ in range(200)]
        while len(trickling) < len(slow):  # the slow connections are open and trickling first
            if any(task.done() for task in slow):
                break  # one failed or was cut already: the asserts below say so
            await asyncio.sleep(0.01)
        answers = await normal_client(until)
        return await asyncio.gather(*slow), answers

    cut, answers = asyncio.run(main())
    slowest = max(elapsed for elapsed, _ in answers)
    failed = [answer for answer in answers if answer[1] != "200"]
    figures(
        flavor,
        "slow clients",
        slow_connections=200,
        slow_cut=sum(cut),
        normal=len(answers),
        normal_failed=len(failed),
        slowest_s=round(slowest, 3),
    )

    assert not failed, failed[:3]
    # granian, uvicorn and hypercorn give a request head KEEP_ALIVE (5) seconds; daphne (Twisted) restarts
    # its clock at every byte, so a trickle is never cut there (nor does it hold anyone up).
    assert sum(cut) == (200 if SERVER_DATA[flavor]["behaviour"]["cuts_trickled_heads"] else 0)
    assert slowest < 1, f"a normal request took {slowest:.2f} s"
    assert container.running()


@pytest.mark.core
def test_oversized_requests_are_refused(probe_image, flavor, run_container, figures):
    container = run_container(probe_image, env={"WORKERS": "2"}).wait_ready()
    mib = 1024 * 1024
    cases = {
        "request_line": get("/?q=" + "a" * mib),
        "headers": get("/", extra="".join(f"X-Big-{n}: {'h' * 1000}\r\n" for n in range(mib // 1000))),
        "body": (
            b"POST /body/ HTTP/1.1\r\nHost: probe\r\nContent-Type: application/octet-stream\r\n"
            + f"Content-Length: {10 * mib}\r\n\r\n".encode()
            + b"b" * (10 * mib)
        ),
    }
    outcomes = {name: send_raw(container, raw) for name, raw in cases.items()}
    outcomes["next"] = str(container.get("/")[0])
    figures(flavor, "oversized", **outcomes)

    for name in cases:
        outcome = outcomes[name]
        assert outcome.startswith("closed") or 400 <= int(outcome) < 500, f"{name}: {outcome}"
    assert outcomes["next"] == "200" and container.running()


def test_memory_stays_flat(probe_image, flavor, run_container, figures, long):
    container = run_container(probe_image, env={"WORKERS": "1"}).wait_ready()
    total = 100_000 if long else 10_000

    def drive(count: int) -> Run:
        run = asyncio.run(load(container.url, lambda: "/", concurrency=8, count=count, deadline=time.monotonic() + 600))
        assert not run.failed(), run.failed()[:3]
        return run

    first = drive(1_000)
    (pid,) = first.pids()
    early = rss_kib(container, pid)
    drive(total - 1_000)
    late = rss_kib(container, pid)
    growth = (late - early) / early * 100
    figures(
        flavor,
        "memory",
        sent=total,
        rss_early_mib=round(early / 1024, 1),
        rss_late_mib=round(late / 1024, 1),
        growth_pct=round(growth, 1),
    )

    assert growth <= 10, f"RSS grew from {early} to {late} KiB ({growth:.1f} %)"


@pytest.mark.core
def test_app_failing_at_import_stops_the_container(probe_image, flavor, run_container, figures):
    container = run_container(probe_image, env={"WORKERS": "2", "DJANGO_ASGI_APP": "broken.asgi:application"})
    began = time.monotonic()
    code = container.wait_exit(timeout=60)
    elapsed = time.monotonic() - began
    logs = container.logs()
    tracebacks = logs.count("Traceback (most recent call last)")
    figures(flavor, "startup failure", exit_code=code, exit_s=round(elapsed, 2), tracebacks=tracebacks)

    # The exit-status table's: 3, or 1 on granian ("the server failed (granian: also the app failed to load)").
    assert code == readme_claims.exit_status(SERVER_DATA[flavor]["behaviour"]["boot_failure"]), logs
    assert elapsed < 10, f"took {elapsed:.1f} s to give up"
    assert "this application fails at import" in logs
    assert tracebacks == 1, logs
