"""django_asgi.servers.hypercorn.runner.FrameScanner: each frame's type and stream, however the reads cut them."""

import pytest

from django_asgi.servers.hypercorn.runner import HTTP2_PREFACE, FrameScanner


def frame(kind: int, stream: int, payload: bytes = b"") -> bytes:
    return len(payload).to_bytes(3, "big") + bytes([kind, 0]) + stream.to_bytes(4, "big") + payload


FRAMES = [(0x4, 0, b"")] + [(kind, s, b"x" * s) for s in range(1, 40, 2) for kind in (0x1, 0x3)]
DATA = b"".join(frame(kind, stream, payload) for kind, stream, payload in FRAMES)
EXPECTED = [(kind, stream) for kind, stream, _ in FRAMES]


@pytest.mark.parametrize("preface", [HTTP2_PREFACE, b""], ids=["with the preface", "after it"])
@pytest.mark.parametrize("read", [1, 2, 7, 9, 10, 64, 10_000])
def test_frames_across_reads(preface, read):
    data, scanner, found = preface + DATA, FrameScanner(), []
    for at in range(0, len(data), read):
        found += scanner.frames(data[at : at + read])
    assert found == EXPECTED
