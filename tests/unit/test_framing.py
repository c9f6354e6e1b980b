"""Requests no flavor passes to the app, whatever its own parser accepted (django_asgi.wrapper.refused)."""

import asyncio

import pytest

from django_asgi.wrapper import TrustedProxies, refused, wrap


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
