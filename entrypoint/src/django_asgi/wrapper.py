"""The ASGI wrapper of django_asgi.asgi, for servers that lack a switch the contract needs.

It
- answers lifespan itself, for servers that cannot turn it off (Django does
  not implement it and would log an error at every start);
- applies X-Forwarded-For and X-Forwarded-Proto from the peers the plan lists in
  DJANGO_ASGI_TRUSTED_PROXIES (FORWARDED_ALLOW_IPS, normalised), for servers
  that cannot restrict which peers to trust.
"""

import ipaddress


class TrustedProxies:
    def __init__(self, spec: str) -> None:
        items = [item.strip() for item in spec.split(",") if item.strip()]
        self.everyone = "*" in items
        self.networks = [ipaddress.ip_network(item, strict=False) for item in items if item != "*"]

    def __bool__(self) -> bool:
        return self.everyone or bool(self.networks)

    def __contains__(self, host: str | None) -> bool:
        if self.everyone:
            return True
        try:
            address = ipaddress.ip_address((host or "").split("%")[0])
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


def forwarded(scope, trusted: TrustedProxies):
    """The scope as the client sent it through trusted proxies, or unchanged."""
    client = scope.get("client")
    if not client or client[0] not in trusted:
        return scope
    scope = dict(scope)
    proto = _header(scope, b"x-forwarded-proto")
    if proto:
        proto = proto.split(",")[0].strip().lower()
        if proto in ("http", "https"):
            secure = proto == "https"
            scope["scheme"] = ("wss" if secure else "ws") if scope["type"] == "websocket" else proto
    chain = _header(scope, b"x-forwarded-for")
    if chain:
        hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
        # The right-most address that is not a trusted proxy is the client.
        for hop in reversed(hops):
            if hop not in trusted:
                scope["client"] = (hop, 0)
                break
        else:
            if hops:
                scope["client"] = (hops[0], 0)
    return scope


def wrap(app, trusted: TrustedProxies):
    async def application(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].rpartition(".")[2]
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if trusted and scope["type"] in ("http", "websocket"):
            scope = forwarded(scope, trusted)
        return await app(scope, receive, send)

    return application
