"""A WebSocket client at the frame level (RFC 6455), for what ordinary clients refuse to do: send a
64 MiB frame, flood pings and never read the pongs."""

import base64
import os
import socket
import struct


def connect(address: tuple[str, int], path: str = "/ws") -> socket.socket:
    connection = socket.create_connection(address, timeout=10)
    key = base64.b64encode(os.urandom(16))
    connection.sendall(
        b"GET " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        data = connection.recv(4096)
        if not data:
            raise ConnectionError(f"closed during the handshake: {head!r}")
        head += data
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise ConnectionError(f"not upgraded: {head!r}")
    return connection


def frame(opcode: int, payload: bytes = b"", fin: bool = True, length: int | None = None) -> bytes:
    """A masked client frame; `length` may announce more than `payload` holds (the rest sent later)."""
    length = len(payload) if length is None else length
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    # A zero mask: the payload goes unchanged (the client must mask; any key will do).
    return header + b"\0\0\0\0" + payload


def close_code(connection: socket.socket, timeout: float = 10) -> int | None:
    """Read until the server's close frame; its code (None: closed without a frame or without a code)."""
    connection.settimeout(timeout)
    buffer = b""
    while True:
        try:
            data = connection.recv(65536)
        except (ConnectionResetError, TimeoutError):
            return None
        if not data:
            return None
        buffer += data
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, offset = struct.unpack("!H", buffer[2:4])[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, offset = struct.unpack("!Q", buffer[2:10])[0], 10
            if len(buffer) < offset + length:
                break
            payload, buffer = buffer[offset : offset + length], buffer[offset + length :]
            if opcode == 0x8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None


def send_quietly(connection: socket.socket, data: bytes) -> None:
    """Send what the server takes before it closes."""
    try:
        connection.sendall(data)
    except (BrokenPipeError, ConnectionResetError, TimeoutError):
        pass
