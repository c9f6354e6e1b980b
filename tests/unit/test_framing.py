"""Requests no flavor passes to the app, whatever its own parser accepted (django_asgi.runtime.wrapper.refused)."""

import asyncio

import pytest

from django_asgi.runtime.wrapper import TrustedProxies, refused, wrap


def scope(version: str = "1.1", **headers: str) -> dict:
    return {
        "type": "http",
        "http_version": version,
        "headers": [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()],
    }


@pytest.mark.parametrize(
    "request_scope, status",
    [
        (scope(), None),
        (scope("1.0"), None),
        (scope("2"), None),
        (scope(transfer_encoding="chunked"), None),
        (scope(transfer_encoding=" Chunked "), None),
        (scope("1.2"), 505),
        (scope("2.0"), 505),
        (scope("0.9"), 505),
        (scope(transfer_encoding="gzip, chunked"), 501),
        (scope(transfer_encoding="identity"), 501),
        (scope("1.0", transfer_encoding="chunked"), 400),
    ],
)
def test_refused(request_scope, status):
    assert (refused(request_scope) or (None,))[0] == status


def test_refused_request_never_reaches_the_app():
    called, sent = [], []

    async def app(scope, receive, send):
        called.append(scope)

    async def send(message):
        sent.append(message)

    asyncio.run(wrap(app, TrustedProxies(""))(scope(transfer_encoding="gzip, chunked"), None, send))
    assert not called
    assert sent[0]["status"] == 501 and (b"connection", b"close") in sent[0]["headers"]


@pytest.mark.parametrize(
    ("version", "headers", "status"), [("1", {}, None), ("1", {"transfer_encoding": "chunked"}, 400)]
)
def test_granians_name_for_http10_is_http10(version, headers, status):
    # granian's scope says "1" for HTTP/1.0: the app sees the spec's "1.0", and the rules for 1.0 hold.
    called, sent = [], []

    async def app(scope, receive, send):
        called.append(scope["http_version"])

    async def send(message):
        sent.append(message)

    asyncio.run(wrap(app, TrustedProxies(""))(scope(version, **headers), None, send))
    assert (called, sent[:1] and sent[0]["status"]) == (([], status) if status else (["1.0"], []))


def run(app, scope, messages):
    incoming, sent = list(messages), []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def body_reading_app(seen):
    async def app(scope, receive, send):
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Django does: RequestAborted, no response
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def test_declared_length_over_the_limit_is_refused_before_the_app():
    seen = []
    sent = run(wrap(body_reading_app(seen), TrustedProxies(""), max_body=10), scope(content_length="11"), [])
    assert not seen and sent[0]["status"] == 413


@pytest.mark.parametrize("chunks, status", [([b"12345", b"67890"], 200), ([b"12345", b"678901"], 413)])
def test_chunked_body_is_cut_at_the_limit(chunks, status):
    seen = []
    messages = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    sent = run(
        wrap(body_reading_app(seen), TrustedProxies(""), max_body=10), scope(transfer_encoding="chunked"), messages
    )
    assert sent[0]["status"] == status
    assert seen == ([b"".join(chunks)] if status == 200 else [])


@pytest.mark.parametrize("answer_cut", [True, False])
@pytest.mark.parametrize("max_body", [None, 10])
def test_a_chunked_body_the_server_cut_gets_400_where_asked(answer_cut, max_body):
    # The server ends the body before its last chunk (a malformed chunk): the app hears of a disconnect
    # and answers nothing; a server that would answer 500 then has the wrapper answer 400.
    seen = []
    messages = [{"type": "http.request", "body": b"12345", "more_body": True}, {"type": "http.disconnect"}]
    app = wrap(body_reading_app(seen), TrustedProxies(""), max_body=max_body, answer_cut_bodies=answer_cut)
    sent = run(app, scope(transfer_encoding="chunked"), messages)
    assert seen == []
    assert [message.get("status") for message in sent[:1]] == ([400] if answer_cut else [])
    # A body that ended is no cut body, whatever the app does after.
    ended = [{"type": "http.request", "body": b"12345", "more_body": False}, {"type": "http.disconnect"}]
    assert run(app, scope(transfer_encoding="chunked"), ended)[0]["status"] == 200


@pytest.mark.parametrize(
    "message, closed", [({"text": "é" * 5}, False), ({"text": "é" * 6}, True), ({"bytes": b"x" * 11}, True)]
)
def test_websocket_message_over_the_limit_closes_with_1009(message, closed):
    got = []

    async def app(scope, receive, send):
        got.append(await receive())

    sent = run(wrap(app, TrustedProxies(""), max_message=10), {"type": "websocket", "headers": []},
               [{"type": "websocket.receive", **message}])  # fmt: skip
    if closed:
        assert sent == [{"type": "websocket.close", "code": 1009}]
        assert got == [{"type": "websocket.disconnect", "code": 1009}]
    else:
        assert sent == [] and got[0]["text"] == message["text"]


@pytest.mark.parametrize("raw, size", [("100M", 100 * 2**20), ("512k", 512 * 1024), ("1G", 2**30), ("2MiB", 2 * 2**20),
                                       ("1048576", 2**20), (" 7 ", 7)])  # fmt: skip
def test_sizes(raw, size):
    from django_asgi.parsers import size as parse

    assert parse("MAX_REQUEST_BODY", raw) == size


async def stop_while_open(app, receive, send, registry) -> None:
    """The app behind the wrapper on one WebSocket; once it is open, the server's stop hook runs."""
    task = asyncio.ensure_future(
        wrap(app, TrustedProxies(""), websockets=registry)({"type": "websocket"}, receive, send)
    )
    while not registry.open:
        await asyncio.sleep(0)
    await registry.close_all(1001)
    await task


def test_open_websockets_are_closed_with_1001_when_the_server_stops():
    # For granian, which drops them without a close frame: the registry the stop hook closes.
    from django_asgi.runtime.wrapper import OpenWebSockets

    registry, sent, heard = OpenWebSockets(), [], []

    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})
        heard.append(await receive())  # waits: the client sends nothing

    async def receive():
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    asyncio.run(stop_while_open(app, receive, send, registry))
    assert sent == [{"type": "websocket.accept"}, {"type": "websocket.close", "code": 1001}]
    assert heard == [{"type": "websocket.disconnect", "code": 1001}] and not registry.open


def test_the_app_hears_of_the_stop_only_once_the_close_frame_is_out():
    # granian closes a WebSocket whose app has ended without a code, and its close waits for the
    # pending receive to be given up: receive cancelled first, close sent, then the app told.
    from django_asgi.runtime.wrapper import OpenWebSockets

    registry, events = OpenWebSockets(), []

    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})
        message = await receive()
        events.append(("app heard", message["type"]))
        await send({"type": "websocket.send", "text": "too late"})  # dropped: the stop closed it

    async def receive():
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            events.append("receive given up")
            raise

    async def send(message):
        if message["type"] == "websocket.accept":
            await asyncio.sleep(0.01)  # a stop may come while the server takes the accept
        if message["type"] == "websocket.close":
            await asyncio.sleep(0.01)
        events.append(message["type"])

    asyncio.run(stop_while_open(app, receive, send, registry))
    assert events == [
        "websocket.accept",
        "receive given up",
        "websocket.close",
        ("app heard", "websocket.disconnect"),
    ]


def test_head_limit_for_a_server_that_let_a_whole_head_through():
    # granian's own limit depends on how the head arrived: the wrapper measures what reached it.
    def scope(pad: int) -> dict:
        headers = [(b"host", b"x"), (b"x-pad", b"a" * pad)]
        return {"type": "http", "method": "GET", "raw_path": b"/", "query_string": b"", "headers": headers}

    assert refused(scope(60_000), max_head=65536) is None
    assert refused(scope(66_000), max_head=65536) == (431, b"Request header fields too large\n")
    assert refused(scope(66_000)) is None  # other servers enforce it themselves
    long_line = {**scope(0), "query_string": b"q=" + b"a" * 70_000}
    assert refused(long_line, max_head=65536)[0] == 431
