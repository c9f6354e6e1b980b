"""A bad day for each flavor: signals under load, crashed and recycled workers, abusive clients.

Each case is bounded in requests and time. The short version runs with the
suite; `--long` runs them at full length and writes docs/reliability.md from
the figures recorded here.
"""

import asyncio
import re
import signal
import threading
import time

import pytest

from conftest import docker
from load import Run, get, load, request
from polling import wait_for

pytestmark = pytest.mark.reliability

GRACEFUL = 10
MARGIN = 5  # seconds past GRACEFUL_TIMEOUT a stop may take
RECYCLING = ("hypercorn", "uvicorn")  # the others refuse MAX_REQUESTS


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

    def ok(self) -> int:
        return sum(record.ok for record in list(self.run.records))

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
    host, port = container.url.removeprefix("http://").rsplit(":", 1)

    async def main():
        try:
            return str((await request(host, int(port), raw, timeout=timeout))[0])
        except (OSError, EOFError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as error:
            return f"closed ({type(error).__name__})"
        except asyncio.TimeoutError:
            return "no answer"

    return asyncio.run(main())


def rss_kib(container, pid: int) -> int:
    status = container.exec("cat", f"/proc/{pid}/status").stdout
    return int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_rolling_restart_loses_no_accepted_request(probe_image, flavor, signum, run_container, figures, long):
    container = run_container(probe_image, env={"WORKERS": "2", "GRACEFUL_TIMEOUT": str(GRACEFUL)}).wait_ready()
    background = Background(container.url, counter("/slow/?seconds=0.5&id={}"), concurrency=16, count=100_000,
                            deadline=time.monotonic() + 120)
    warm = 2000 if long else 100
    wait_for(lambda: background.ok() >= warm, 90, message=f"{warm} responses before the signal")
    signalled = time.monotonic()
    docker("kill", "--signal", signum.name, container.name)
    code = container.wait_exit(timeout=GRACEFUL + MARGIN + 10)
    stopped = time.monotonic() - signalled
    # Keep knocking for a moment after the exit: those attempts must end promptly.
    wait_for(lambda: time.monotonic() > signalled + stopped + 1, 10, message="one more second of load")
    run = background.stop()
    logs = container.logs()

    started = set(re.findall(r"probe: started (\d+)", logs))
    accepted = [r for r in run.records if r.path.rpartition("=")[2] in started]
    lost = [r for r in accepted if not r.ok]
    before = [r for r in run.records if r.sent is not None and r.sent < signalled]
    after = [r for r in run.records if r.started >= signalled]
    slowest_refusal = max((r.done - r.started for r in after if not r.ok), default=0.0)
    figures(flavor, f"restart {signum.name}", sent=len(run.records), accepted=len(accepted), lost=len(lost),
            sent_before_not_started=sum(not r.ok for r in before) - len([r for r in lost if r in before]),
            exit_s=round(stopped, 2), exit_code=code, slowest_refusal_s=round(slowest_refusal, 3))

    assert not lost, f"{len(lost)} of {len(accepted)} accepted requests failed: {lost[:3]}\n{logs[-3000:]}"
    assert stopped < GRACEFUL + MARGIN, f"took {stopped:.1f} s to stop"
    assert code == 0, logs[-3000:]
    assert slowest_refusal < 2, f"a request after the signal took {slowest_refusal:.1f} s to be turned away"
