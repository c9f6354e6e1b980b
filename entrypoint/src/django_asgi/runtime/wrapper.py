"""The ASGI wrapper of django_asgi.runtime.asgi, for servers that lack a switch the contract needs.

It
- answers lifespan itself, for servers that cannot turn it off (Django does
  not implement it and would log an error at every start);
- applies X-Forwarded-For (or CLIENT_IP_HEADER) and X-Forwarded-Proto from the
  peers the plan lists in DJANGO_ASGI_TRUSTED_PROXIES (FORWARDED_ALLOW_IPS,
  normalised): one meaning on every flavor, where the servers' own handling
  differs;
- refuses what no flavor may pass to the app, and applies the body and
  WebSocket message limits;
- counts the HTTP requests in flight (django_asgi.runtime.inflight), so that a stop
  that had to cut some can say so;
- runs at most HTTP2_IN_FLIGHT requests of one HTTP/2 connection at once.
"""

import asyncio

from django_asgi.runtime import inflight


def _ip():
    # ipaddress takes about 1.5 ms to import: only workers that trust proxies pay it.
    import ipaddress

    return ipaddress


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        ipaddress = _ip() if items else None  # imported now, not at the first request
        self.networks = [ipaddress.ip_network(item, strict=False) for item in items if item != "*"]

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def __contains__(self, host: str | None) -> bool:
        if self.everyone:
            return True
        try:
            address = _ip().ip_address((host or "").split("%")[0])
        except ValueError:
            return False
        # With a :: socket, IPv4 peers appear as ::ffff:a.b.c.d.
        mapped = getattr(address, "ipv4_mapped", None)
        return any(address in network or (mapped is not None and mapped in network) for network in self.networks)


def _header(scope, name: bytes) -> str | None:
    # Several lines of one header are one comma-separated list (RFC 9110 5.3):
    # a proxy may add its own X-Forwarded-For line after the client's.
    found = [value.decode("latin-1") for key, value in scope.get("headers", ()) if key.lower() == name]
    return ", ".join(found) if found else None


def _entries(scope, name: bytes) -> list[str]:
    value = _header(scope, name)
    return [entry.strip() for entry in value.split(",") if entry.strip()] if value else []


def _address(text: str | None) -> str | None:
    """An IP address, without a port ("1.2.3.4:80", "[2001:db8::1]:80"); None for anything else."""
    text = (text or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return str(_ip().ip_address(text))
    except ValueError:
        return None


def forwarded(scope, trusted: TrustedProxies, client_ip_header: bytes | None = None):
    """The scope as the client sent it through trusted proxies, or unchanged.

    The client address is the right-most X-Forwarded-For entry that is not a trusted proxy (with "*",
    the right-most: exactly the peer is trusted, and what is left of its entry the client may have
    written); or, with client_ip_header, that header (Fly-Client-IP, which Fly's proxy sets itself).
    Only addresses count: ports are dropped, anything else ends the walk. X-Forwarded-Proto comes from
    the same hop as the address.
    """
    client = scope.get("client")
    if not client or client[0] not in trusted:
        return scope
    address, hop = None, 1
    if client_ip_header:
        address = _address(_header(scope, client_ip_header))
    else:
        for index, entry in enumerate(reversed(_entries(scope, b"x-forwarded-for")), start=1):
            found = _address(entry)
            if found is None:
                break
            address, hop = found, index
            if trusted.everyone or found not in trusted:
                break
    scope = dict(scope)
    if address:
        scope["client"] = (address, 0)
    protos = _entries(scope, b"x-forwarded-proto")
    proto = protos[-hop].lower() if len(protos) >= hop else None
    if proto in ("http", "https"):
        secure = proto == "https"
        scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
    return scope


def absolute_form(target: bytes) -> tuple[bytes, bytes] | None:
    """(authority, the rest as an origin-form target) of an absolute-form request target such as
    http://example.com/path?q, or None for an origin-form one (/path) or *. RFC 9112 3.2.2: a server
    takes the authority from the target and ignores Host; the servers' own parsers either dropped it
    (Django saw Host) or routed the whole URL as a path. ValueError for any other target."""
    if target[:1] in (b"/", b"*"):
        return None
    scheme, separator, rest = target.partition(b"://")
    authority, slash, path = rest.partition(b"/")
    authority, question, query = authority.partition(b"?")
    if not separator or scheme.lower() not in (b"http", b"https") or not authority or b"@" in authority:
        raise ValueError("request target neither a path nor an http URL")  # RFC 9110 4.2.4: no userinfo
    origin = slash + path if slash else b"/"
    return authority, origin + question + query if question else origin


def _host_from_target(scope):
    """The scope of an absolute-form request with the target's authority as Host (absolute_form), else unchanged;
    None for a target that is neither."""
    path = scope.get("path", "")
    if path[:1] == "/" or path == "*":
        return scope
    try:
        parsed = absolute_form(scope.get("raw_path") or path.encode("latin-1"))
    except ValueError:
        return None
    if parsed is None:
        return scope
    from urllib.parse import unquote

    authority, origin = parsed
    headers = [(name, value) for name, value in scope.get("headers", ()) if name.lower() != b"host"]
    return {
        **scope,
        "path": unquote(origin.decode("latin-1")),
        "raw_path": origin,
        "headers": [(b"host", authority), *headers],
    }


# Requests of one HTTP/2 connection the app runs at once: granian's default limit on open streams (hypercorn's is
# 100). Streams the client reset do not count against that limit, but granian hands each to the app all the
# same: 100,000 streams opened and reset 20 at a time left 22,000 threads and 2 GiB in a worker that served
# nothing more. Past it a request is answered 503 without the app; no open stream of a connection within the
# servers' limit gets there.
HTTP2_IN_FLIGHT = 200
_http2_in_flight: dict = {}


# Request framing every flavor holds to (RFC 9112): the servers' own parsers differ.
HTTP_VERSIONS = ("1.0", "1.1", "2")


def refused(scope, max_body: int | None = None, max_head: int | None = None) -> tuple[int, bytes] | None:
    """The status and reason for a request no flavor may pass to the app, or None.

    - An HTTP version the server does not speak (some parsers take "HTTP/1.2" or "HTTP/2.0" lines).
    - Transfer-Encoding other than chunked (RFC 9112 6.3: a request's final coding must be chunked,
      and no other coding is implemented): 501.
    - Transfer-Encoding on HTTP/1.0, which has none (RFC 9112 6.1: the framing is faulty).
    - A Content-Length over max_body: 413 before any of the body is read.
    - A request head over max_head (for a server whose own limit depends on how the head arrived):
      431, as the other flavors' servers answer.
    """
    if scope.get("http_version", "1.1") not in HTTP_VERSIONS:
        return 505, b"HTTP version not supported\n"
    if max_head is not None and _head_size(scope) > max_head:
        return 431, b"Request header fields too large\n"
    coding = _header(scope, b"transfer-encoding")
    if coding is not None:
        if scope.get("http_version") == "1.0":
            return 400, b"Transfer-Encoding in an HTTP/1.0 request\n"
        if coding.strip().lower() != "chunked":
            return 501, b"Transfer-Encoding other than chunked\n"
    if max_body is not None and _declared_length(scope) > max_body:
        return 413, b"Request body too large\n"
    return None


def _head_size(scope) -> int:
    """The request line and headers as they came, give or take optional whitespace."""
    target = len(scope.get("raw_path") or scope.get("path", "").encode()) + len(scope.get("query_string", b"")) + 1
    line = len(scope.get("method", "")) + target + 12  # two spaces, "HTTP/1.1", CRLF
    return line + sum(len(name) + len(value) + 4 for name, value in scope.get("headers", ())) + 2


def _declared_length(scope) -> int:
    length = _header(scope, b"content-length")
    # The servers refused malformed or conflicting lengths already.
    return int(length) if length and length.strip().isdigit() else 0


async def _refuse(send, status: int, body: bytes, http2: bool = False) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    if not http2:  # HTTP/2 has no Connection header (RFC 9113 8.2.2): the stream ends, not the connection
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _body_watched(
    app, scope, receive, send, max_body: int | None, answer_cut: bool = False, body_timeout: int | None = None
) -> None:
    """The app reads the body through this.

    - A body without Content-Length (chunked) is cut where it passes max_body: the app is told the client
      left (Django then answers nothing) and the client gets 413.
    - With answer_cut, a body the server ended before its end (a malformed chunk) gets 400 where the app
      answered nothing.
    - With body_timeout, a body whose next bytes take longer than that many seconds is cut the same way and
      answered 408 (RFC 9110 15.5.9): a client that sends a head and then stalls holds a connection and a
      request no longer than that, where the servers would wait for ever.
    """
    state = {"received": 0, "over": False, "started": False, "ended": False, "cut": False, "stalled": False}

    async def watched_receive():
        if state["over"] or state["stalled"]:
            return {"type": "http.disconnect"}
        if body_timeout is None or state["ended"]:
            message = await receive()
        else:
            try:
                message = await asyncio.wait_for(receive(), body_timeout)
            except TimeoutError:
                state["stalled"] = True
                return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            state["received"] += len(message.get("body", b""))
            state["ended"] = not message.get("more_body", False)
            if max_body is not None and state["received"] > max_body:
                state["over"] = True
                return {"type": "http.disconnect"}
        elif message["type"] == "http.disconnect" and not state["ended"]:
            state["cut"] = True
        return message

    async def watching_send(message):
        if message["type"] == "http.response.start":
            state["started"] = True
        await send(message)

    await app(scope, watched_receive, watching_send)
    if state["started"]:
        return
    http2 = scope.get("http_version") == "2"
    if state["over"]:
        await _refuse(send, 413, b"Request body too large\n", http2)
    elif state["stalled"]:
        await _refuse(send, 408, b"Request body timed out\n", http2)
    elif answer_cut and state["cut"]:
        try:
            await _refuse(send, 400, b"Malformed request body\n", http2)
        except Exception:
            pass


class _OpenWebSocket:
    """One accepted WebSocket, as OpenWebSockets closes it."""

    def __init__(self, send) -> None:
        self.send = send
        self.accepted = asyncio.Event()  # the server has taken the accept
        self.stopping = asyncio.Event()  # the app's pending receive is given up, and it sends no more
        self.stopped = asyncio.Event()  # the close frame is out: the app may hear of it


class OpenWebSockets:
    """The accepted WebSockets of this worker, for a server that drops them on stop without a close
    frame (granian): close_all() closes each with 1001 and tells its app the client went away.

    The order matters on granian: a pending receive holds the connection's read half, which the
    close waits for, so the receive is given up first; and an app that ends before the close has
    taken the connection lets granian close it without a code (granian/src/asgi/io.rs,
    ASGIWebsocketProtocol.close and .tx), so the app hears of the stop only once the close is out.
    """

    def __init__(self) -> None:
        self.open: dict[int, _OpenWebSocket] = {}
        self.closed_some = False

    async def close_all(self, code: int = 1001) -> None:
        """Close each; return when their apps have ended (each leaves self.open as it ends)."""
        self.closed_some = self.closed_some or bool(self.open)
        for websocket in list(self.open.values()):
            websocket.stopping.set()
            try:
                await websocket.accepted.wait()
                await websocket.send({"type": "websocket.close", "code": code})
            except Exception:  # a connection that went meanwhile needs no close
                pass
            finally:
                websocket.stopped.set()
        while self.open:
            await asyncio.sleep(0.01)


async def _websocket(app, scope, receive, send, max_message: int | None, registry: OpenWebSockets | None) -> None:
    """A message over max_message closes the connection with 1009 (for servers that cannot refuse it
    before buffering it: granian); with a registry, the connection can be closed when the server stops."""
    websocket = _OpenWebSocket(send)

    async def next_message():
        if registry is None:
            return await receive()
        receiving = asyncio.ensure_future(receive())
        stopping = asyncio.ensure_future(websocket.stopping.wait())
        done, _ = await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if receiving not in done:
            receiving.cancel()
            await websocket.stopped.wait()
            return {"type": "websocket.disconnect", "code": 1001}
        stopping.cancel()
        return receiving.result()

    async def checked_receive():
        message = await next_message()
        if max_message is not None and message["type"] == "websocket.receive":
            text = message.get("text")
            size = len(message.get("bytes") or b"") if text is None else len(text)
            if text is not None and size * 4 > max_message:  # characters of up to 4 bytes each
                size = len(text.encode())
            if size > max_message:
                await send({"type": "websocket.close", "code": 1009})
                return {"type": "websocket.disconnect", "code": 1009}
        return message

    async def tracked_send(message):
        if websocket.stopping.is_set():
            return  # closed by the stop
        if registry is not None and message["type"] == "websocket.accept":
            registry.open[id(websocket)] = websocket
            try:
                await send(message)
            finally:
                websocket.accepted.set()
            return
        await send(message)
        if registry is not None and message["type"] == "websocket.close":
            registry.open.pop(id(websocket), None)

    try:
        await app(scope, checked_receive, tracked_send)
    finally:
        if registry is not None:
            registry.open.pop(id(websocket), None)


def wrap(
    app,
    trusted: TrustedProxies,
    max_body: int | None = None,
    max_message: int | None = None,
    client_ip_header: bytes | None = None,
    websockets: OpenWebSockets | None = None,
    max_head: int | None = None,
    answer_cut_bodies: bool = False,
    body_timeout: int | None = None,
):
    """answer_cut_bodies: a chunked body the server ended before its last chunk (malformed, or the client
    gone) gets 400 when the app answered nothing, for a server that would answer 500 itself.
    body_timeout: seconds the next bytes of a request body may take (_body_watched)."""

    async def serve_http(scope, receive, send):
        request = inflight.started()
        try:
            # With a Content-Length (checked before) the server frames the body by it, and an HTTP/1 request
            # with neither it nor Transfer-Encoding has none: only chunked bodies (and HTTP/2 ones without a
            # length) need counting, and only requests with a body can stall in it.
            length = _header(scope, b"content-length")
            if length is None:
                unframed = scope.get("http_version") == "2" or _header(scope, b"transfer-encoding") is not None
                watched = unframed and (max_body is not None or answer_cut_bodies or body_timeout is not None)
            else:
                unframed = False
                watched = body_timeout is not None and length.strip() not in ("", "0")
            if watched:
                limit = max_body if unframed else None
                return await _body_watched(app, scope, receive, send, limit, answer_cut_bodies, body_timeout)
            return await app(scope, receive, send)
        finally:
            inflight.ended(request)

    async def application(scope, receive, send):
        kind = scope["type"]
        if kind == "lifespan":
            while True:
                message = await receive()
                step = message["type"].rpartition(".")[2]
                await send({"type": f"lifespan.{step}.complete"})
                if step == "shutdown":
                    return
        peer = scope.get("client")  # with the server's address, one connection
        if kind in ("http", "websocket"):
            if scope.get("path", "/")[:1] != "/":
                scope = _host_from_target(scope)
                if scope is None and kind == "websocket":
                    return await send({"type": "websocket.close", "code": 1008})  # the handshake gets 403
                if scope is None:
                    return await _refuse(send, 400, b"Malformed request target\n")
            if trusted:
                scope = forwarded(scope, trusted, client_ip_header)
        if kind == "http":
            if scope.get("http_version") == "1":
                # granian names HTTP/1.0 "1" (src/asgi/utils.rs), where the ASGI spec says "1.0": an
                # HTTP/1.0 request (ApacheBench, nginx's default proxy_http_version) would get 505 below.
                scope = {**scope, "http_version": "1.0"}
            refusal = refused(scope, max_body, max_head)
            if refusal is not None:
                return await _refuse(send, *refusal, scope.get("http_version") == "2")
            if scope.get("http_version") != "2" or peer is None:
                return await serve_http(scope, receive, send)
            count = _http2_in_flight.get(peer, 0)
            if count >= HTTP2_IN_FLIGHT:
                return await _refuse(send, 503, b"Too many requests in flight on this connection\n", True)
            _http2_in_flight[peer] = count + 1
            try:
                return await serve_http(scope, receive, send)
            finally:
                if _http2_in_flight[peer] == 1:
                    del _http2_in_flight[peer]
                else:
                    _http2_in_flight[peer] -= 1
        elif kind == "websocket" and (max_message is not None or websockets is not None):
            return await _websocket(app, scope, receive, send, max_message, websockets)
        return await app(scope, receive, send)

    return application
