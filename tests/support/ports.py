"""A free TCP port on the loopback, for the tests and the benchmark."""

import socket


def free_port() -> int:
    """A port nothing listens on: bound, then closed (the kernel does not hand it out again at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
