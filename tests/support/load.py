"""A bounded HTTP/1.1 load client that records every request.

wrk counts errors; these tests need to know which requests failed, when they
were sent and which worker process served the connection before, so this
client speaks HTTP/1.1 over asyncio streams and keeps one record per request.
Every run is bounded by a request count and a deadline.
"""

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class Record:
    path: str
    started: float  # monotonic: the client began this request (connecting if needed)
    sent: float | None = None  # monotonic: the request was fully written
    done: float = 0.0
    status: int | None = None  # None: no response (refused, reset, closed, timed out)
    error: str = ""
    pid: int | None = None  # X-Worker-Pid of the response
    connection_pid: int | None = None  # the worker that served this connection's previous response

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)

    def failed(self) -> list[Record]:
        return [record for record in self.records if not record.ok]

    def pids(self) -> set[int]:
        return {record.pid for record in self.records if record.pid}


# How a request ends without a response: refused, reset, closed early (EOFError), timed out
# (TimeoutError is an OSError), or garbage instead of HTTP.
NO_RESPONSE = (OSError, EOFError, asyncio.LimitOverrunError, ValueError, IndexError)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            body += chunk[:-2]
            if size == 0:
                break
    else:
        body = await reader.read()
    return status, headers, body


async def request(host: str, port: int, raw: bytes, timeout: float = 10.0) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection; raises OSError or asyncio errors when there is no response."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(raw)
        await writer.drain()
        return await asyncio.wait_for(_read_response(reader), timeout)
    finally:
        writer.close()


def get(path: str, host: str = "probe", keep_alive: bool = True, extra: str = "") -> bytes:
    connection = "keep-alive" if keep_alive else "close"
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: {connection}\r\n{extra}\r\n".encode("latin-1")


async def load(
    url: str,
    paths,
    *,
    concurrency: int,
    count: int,
    deadline: float,
    keep_alive: bool = True,
    stop: asyncio.Event | None = None,
    timeout: float = 10.0,
    pause_after_failure: float = 0.05,
    into: Run | None = None,
) -> Run:
    """Send up to `count` requests from `concurrency` connections until `deadline` (monotonic) or `stop`.

    `paths` is a callable returning the next path (so each request can carry an id). Records are
    appended to `into` as they start, so another thread can watch progress.
    """
    parts = urlsplit(url)
    run = into if into is not None else Run()
    remaining = [count]
    stop = stop or asyncio.Event()

    async def client() -> None:
        reader = writer = None
        connection_pid = None
        while remaining[0] > 0 and not stop.is_set() and time.monotonic() < deadline:
            remaining[0] -= 1
            record = Record(path=paths(), started=time.monotonic(), connection_pid=connection_pid)
            run.records.append(record)
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection(parts.hostname, parts.port), timeout
                    )
                    connection_pid = record.connection_pid = None
                writer.write(get(record.path, keep_alive=keep_alive))
                await writer.drain()
                record.sent = time.monotonic()
                status, headers, _ = await asyncio.wait_for(_read_response(reader), timeout)
                record.status = status
                record.pid = int(headers.get("x-worker-pid", 0)) or None
                connection_pid = record.pid
                if not keep_alive or headers.get("connection", "").lower() == "close":
                    writer.close()
                    reader = writer = None
            except NO_RESPONSE as error:
                record.error = type(error).__name__
                if writer is not None:
                    writer.close()
                reader = writer = None
                record.done = time.monotonic()
                await asyncio.sleep(pause_after_failure)
                continue
            record.done = time.monotonic()
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return run
