"""django_asgi.runtime.wrapper: lifespan answered by the wrapper, proxy headers applied from trusted peers only."""

import asyncio

import pytest

from django_asgi.runtime.wrapper import TrustedProxies, absolute_form, forwarded, wrap


def call(app, scope, messages=()):
    """Run an ASGI app with fake receive/send; return what it sent."""
    incoming, sent = list(messages), []

    async def receive():
        return incoming.pop(0)

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def recording_app():
    seen = []

    async def app(scope, receive, send):
        seen.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})

    return app, seen


@pytest.mark.parametrize("spec", ["", "*", "10.0.0.0/8"])
def test_lifespan_is_answered_without_the_app(spec):
    async def app(scope, receive, send):
        raise AssertionError("the inner app must not see lifespan")

    sent = call(
        wrap(app, TrustedProxies(spec)),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}],
    )
    assert sent == [{"type": "lifespan.startup.complete"}, {"type": "lifespan.shutdown.complete"}]


def http(client, *headers: tuple[bytes, bytes], kind="http", scheme="http"):
    return {
        "type": kind,
        "scheme": scheme,
        "client": client,
        "server": ("10.9.9.9", 8000),
        "path": "/",
        "headers": [(b"host", b"example.com"), *headers],
    }


XFF, XFP = b"x-forwarded-for", b"x-forwarded-proto"

CASES = [
    # (trusted, peer, headers, client seen by the app, scheme seen by the app)
    ("", ("10.0.0.1", 5000), [(XFF, b"1.2.3.4"), (XFP, b"https")], ("10.0.0.1", 5000), "http"),
    ("10.0.0.0/8", ("192.168.0.1", 5000), [(XFF, b"1.2.3.4"), (XFP, b"https")], ("192.168.0.1", 5000), "http"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"1.2.3.4"), (XFP, b"https")], ("1.2.3.4", 0), "https"),
    ("*", ("203.0.113.7", 5000), [(XFF, b"1.2.3.4"), (XFP, b"https")], ("1.2.3.4", 0), "https"),
    ("10.0.0.1", ("10.0.0.1", 5000), [(XFF, b"1.2.3.4")], ("1.2.3.4", 0), "http"),
    ("10.0.0.1", ("10.0.0.2", 5000), [(XFF, b"1.2.3.4")], ("10.0.0.2", 5000), "http"),
    # With a :: socket an IPv4 peer shows as IPv4-mapped IPv6.
    ("10.0.0.0/8", ("::ffff:10.0.0.1", 5000), [(XFF, b"1.2.3.4")], ("1.2.3.4", 0), "http"),
    ("10.0.0.0/8", ("::ffff:192.168.0.1", 5000), [(XFF, b"1.2.3.4")], ("::ffff:192.168.0.1", 5000), "http"),
    ("fd00::/8", ("fd00::1", 5000), [(XFF, b"2001:db8::1")], ("2001:db8::1", 0), "http"),
    ("fe80::/10", ("fe80::1%eth0", 5000), [(XFF, b"1.2.3.4")], ("1.2.3.4", 0), "http"),
    # The right-most hop that is not a trusted proxy is the client; what is left of it may be forged.
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"6.6.6.6, 1.2.3.4, 10.0.0.2")], ("1.2.3.4", 0), "http"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"6.6.6.6,1.2.3.4")], ("1.2.3.4", 0), "http"),
    # Every hop trusted: the left-most is as far as we can see.
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"10.1.1.1, 10.2.2.2")], ("10.1.1.1", 0), "http"),
    # "*" trusts exactly the peer: its own entry (the right-most) is the client, whatever the client wrote before it.
    ("*", ("10.0.0.1", 5000), [(XFF, b"6.6.6.6, 1.2.3.4")], ("1.2.3.4", 0), "http"),
    ("*", ("172.17.0.1", 5000), [(XFF, b"6.6.6.6, 172.17.0.1")], ("172.17.0.1", 0), "http"),
    # Only addresses: ports are dropped, anything else ends the walk where it stands.
    ("*", ("10.0.0.1", 5000), [(XFF, b"1.2.3.4:5678")], ("1.2.3.4", 0), "http"),
    ("*", ("10.0.0.1", 5000), [(XFF, b"[2001:db8::7]:443")], ("2001:db8::7", 0), "http"),
    ("*", ("10.0.0.1", 5000), [(XFF, b"<script>alert(1)</script>")], ("10.0.0.1", 5000), "http"),
    ("*", ("10.0.0.1", 5000), [(XFF, b"unknown")], ("10.0.0.1", 5000), "http"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"6.6.6.6, unknown, 10.0.0.2")], ("10.0.0.2", 0), "http"),
    # A proxy that adds its own header line instead of appending (HAProxy's option forwardfor).
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"6.6.6.6"), (XFF, b"1.2.3.4")], ("1.2.3.4", 0), "http"),
    # Header names are matched whatever their case.
    (
        "10.0.0.0/8",
        ("10.0.0.1", 5000),
        [(b"X-Forwarded-For", b"1.2.3.4"), (b"X-Forwarded-Proto", b"HTTPS")],
        ("1.2.3.4", 0),
        "https",
    ),
    # Proto: from the same hop as the address, and only http or https.
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFP, b"https, http")], ("10.0.0.1", 5000), "http"),
    ("*", ("10.0.0.1", 5000), [(XFF, b"1.1.1.1, 1.2.3.4"), (XFP, b"https, http")], ("1.2.3.4", 0), "http"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b"1.2.3.4, 10.0.0.2"), (XFP, b"https, http")], ("1.2.3.4", 0), "https"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFP, b"ftp")], ("10.0.0.1", 5000), "http"),
    ("10.0.0.0/8", ("10.0.0.1", 5000), [(XFF, b" , ")], ("10.0.0.1", 5000), "http"),
]


@pytest.mark.parametrize("spec, peer, headers, client, scheme", CASES)
def test_forwarded_headers(spec, peer, headers, client, scheme):
    app, seen = recording_app()
    scope = http(peer, *headers)
    call(wrap(app, TrustedProxies(spec)), scope)
    (got,) = seen
    assert (got["client"], got["scheme"]) == (client, scheme)
    assert scope["client"] == peer  # the server's scope is not modified in place


@pytest.mark.parametrize("proto, scheme", [(b"https", "wss"), (b"http", "ws"), (b"gopher", "ws")])
def test_websocket_scheme(proto, scheme):
    app, seen = recording_app()
    call(wrap(app, TrustedProxies("*")), http(("10.0.0.1", 1), (XFP, proto), kind="websocket", scheme="ws"))
    assert seen[0]["scheme"] == scheme


def test_no_client():
    # A unix socket has no client address: nothing to trust.
    scope = http(None, (XFF, b"1.2.3.4"))
    assert forwarded(scope, TrustedProxies("10.0.0.0/8")) is scope


def test_untrusted_scope_passes_unchanged():
    app, seen = recording_app()
    scope = http(("1.2.3.4", 1), (XFF, b"6.6.6.6"))
    assert call(wrap(app, TrustedProxies("")), scope) == [{"type": "http.response.start", "status": 204, "headers": []}]
    assert seen == [scope]


@pytest.mark.parametrize(
    "spec, host, trusted",
    [
        ("", "10.0.0.1", False),
        ("*", None, True),
        ("*", "anything", True),
        ("10.0.0.0/8", "not an ip", False),
        ("10.0.0.0/8, 192.168.1.1", "192.168.1.1", True),
        ("10.0.0.0/8", "11.0.0.1", False),
        ("::1", "::1", True),
        ("10.0.0.0/8", "::ffff:10.1.2.3", True),
    ],
)
def test_trusted_proxies(spec, host, trusted):
    proxies = TrustedProxies(spec)
    assert (host in proxies) is trusted
    assert bool(proxies) is (spec != "")


@pytest.mark.parametrize(
    "header, client",
    [
        (b"198.51.100.4", ("198.51.100.4", 0)),  # whatever X-Forwarded-For says
        (b"nope", ("172.19.0.1", 5000)),  # not an address: nothing changes
    ],
)
def test_client_ip_header_from_a_trusted_proxy(header, client):
    # Fly.io's proxy sets Fly-Client-IP itself, from the connection it accepted.
    app, seen = recording_app()
    scope = http(("172.19.0.1", 5000), (b"fly-client-ip", header), (XFF, b"6.6.6.6, 198.51.100.4"), (XFP, b"https"))
    call(wrap(app, TrustedProxies("*"), client_ip_header=b"fly-client-ip"), scope)
    assert seen[0]["client"] == client and seen[0]["scheme"] == "https"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (b"/echo?a=1", None),
        (b"*", None),
        (b"http://evil.example/echo", (b"evil.example", b"/echo")),
        (b"HTTPS://evil.example:8443/a/b?x=1", (b"evil.example:8443", b"/a/b?x=1")),
        (b"http://evil.example", (b"evil.example", b"/")),
        (b"http://evil.example?x=1", (b"evil.example", b"/?x=1")),
    ],
)
def test_absolute_form_targets(target, expected):
    assert absolute_form(target) == expected


@pytest.mark.parametrize(
    "target", [b"ftp://evil.example/x", b"http:///x", b"http://user@evil.example/", b"evil.com:80"]
)
def test_other_targets_are_refused(target):
    with pytest.raises(ValueError):
        absolute_form(target)
    app, seen = recording_app()
    scope = {**http(("1.2.3.4", 5000)), "path": target.decode(), "raw_path": target}
    sent = call(wrap(app, TrustedProxies("")), scope)
    assert seen == [] and sent[0]["status"] == 400


def test_an_absolute_form_target_gives_its_host():
    app, seen = recording_app()
    target = b"http://evil.example/a%20b"
    scope = {**http(("1.2.3.4", 5000)), "path": target.decode(), "raw_path": target}
    call(wrap(app, TrustedProxies("")), scope)
    assert (seen[0]["path"], seen[0]["raw_path"]) == ("/a b", b"/a%20b")
    assert [value for name, value in seen[0]["headers"] if name == b"host"] == [b"evil.example"]


def reading_app():
    async def app(scope, receive, send):
        while (message := await receive())["type"] == "http.request" and message.get("more_body"):
            pass
        if message["type"] == "http.disconnect":
            return  # as Django does: RequestAborted, no response
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


def timed_call(app, scope, pieces, gap: float):
    """Body pieces arrive `gap` seconds apart."""
    sent = []

    async def receive():
        await asyncio.sleep(gap)
        return pieces.pop(0) if pieces else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


BODY_SCOPE = {**http(("1.2.3.4", 5000), (b"content-length", b"6")), "http_version": "1.1"}


def test_a_stalled_body_is_answered_408():
    pieces = [{"type": "http.request", "body": b"abc", "more_body": True}]
    sent = timed_call(wrap(reading_app(), TrustedProxies(""), body_timeout=0.05), BODY_SCOPE, pieces, gap=0.2)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_slow_body_that_keeps_coming_is_served():
    """The timeout bounds the wait between two pieces, not the whole body."""
    pieces = [{"type": "http.request", "body": b"a", "more_body": True} for _ in range(5)]
    pieces.append({"type": "http.request", "body": b"b", "more_body": False})
    sent = timed_call(wrap(reading_app(), TrustedProxies(""), body_timeout=0.5), BODY_SCOPE, pieces, gap=0.05)
    assert sent[0]["status"] == 200


def test_a_stalled_http2_body_gets_408_without_connection_header():
    scope = {**http(("1.2.3.4", 5000)), "http_version": "2", "method": "POST"}
    pieces = [{"type": "http.request", "body": b"abc", "more_body": True}]
    sent = timed_call(wrap(reading_app(), TrustedProxies(""), body_timeout=0.05), scope, pieces, gap=0.2)
    assert sent[0]["status"] == 408
    assert all(name != b"connection" for name, _ in sent[0]["headers"])


def test_an_http2_connection_runs_at_most_so_many_requests_at_once():
    """Streams a client reset still reach the app on granian: past HTTP2_IN_FLIGHT of one connection, 503."""
    from django_asgi.runtime import wrapper

    release = asyncio.Event()
    started = []

    async def app(scope, receive, send):
        started.append(scope["client"])
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def run():
        application = wrap(app, TrustedProxies(""))

        async def one(port):
            scope = {**http(("1.2.3.4", port)), "http_version": "2", "method": "GET"}
            out = []

            async def send(message):
                out.append(message)

            async def receive():
                return {"type": "http.request", "body": b"", "more_body": False}

            await application(scope, receive, send)
            return out

        tasks = [asyncio.ensure_future(one(5000)) for _ in range(wrapper.HTTP2_IN_FLIGHT + 5)]
        other = asyncio.ensure_future(one(5001))  # another connection is not held back
        await asyncio.sleep(0.05)
        assert len(started) == wrapper.HTTP2_IN_FLIGHT + 1
        release.set()
        results = await asyncio.gather(*tasks, other)
        assert wrapper._http2_in_flight == {}
        return [result[0]["status"] for result in results]

    statuses = asyncio.run(run())
    assert statuses.count(503) == 5 and statuses[-1] == 200
