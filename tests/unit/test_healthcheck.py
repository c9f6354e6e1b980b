"""`django-asgi healthcheck` against a tiny local HTTP server (no curl in the images)."""

import http.server
import socket
import threading

import pytest

from django_asgi import healthcheck
from tests.support.ports import free_port


@pytest.fixture
def http_server():
    """A server on a free loopback port that answers with .status and records the requests it got."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            server.requests.append((self.path, self.headers["Host"]))
            self.send_response(server.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.status, server.requests = 200, []
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_dispatch_through_the_entrypoint(entrypoint, http_server):
    result = entrypoint("healthcheck", env={"PORT": str(http_server.server_port)})
    assert (result.returncode, result.stdout) == (0, "healthy: GET / answered 200\n")
    assert http_server.requests == [("/", "localhost")]


def test_dispatch_when_nothing_listens(entrypoint):
    result = entrypoint("healthcheck", env={"PORT": str(free_port())})
    assert result.returncode == 1
    assert result.stdout.startswith("unhealthy: 127.0.0.1:")


@pytest.mark.parametrize(
    "status, healthy", [(200, True), (302, True), (400, True), (404, True), (500, False), (503, False)]
)
def test_status(http_server, status, healthy, capsys):
    # Below 500 counts: a 400 for a disallowed Host still shows a running server.
    http_server.status = status
    assert healthcheck.main({"PORT": str(http_server.server_port)}) == (0 if healthy else 1)
    assert capsys.readouterr().out == f"{'healthy' if healthy else 'unhealthy'}: GET / answered {status}\n"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "[::]", "127.0.0.1"])
def test_wildcard_binds_are_probed_on_loopback(http_server, host):
    assert healthcheck.main({"PORT": str(http_server.server_port), "HOST": host}) == 0


def test_path(http_server):
    assert healthcheck.main({"PORT": str(http_server.server_port), "HEALTHCHECK_PATH": "/healthz?full=1"}) == 0
    assert http_server.requests == [("/healthz?full=1", "localhost")]


def test_nothing_listening(capsys):
    assert healthcheck.main({"PORT": str(free_port())}) == 1
    assert "unhealthy" in capsys.readouterr().out


def test_not_http_on_that_port(capsys):
    # Something that is not an HTTP server answers: unhealthy, not a traceback (BadStatusLine is no OSError).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()

        def answer():
            connection, _ = listener.accept()
            with connection:
                connection.recv(4096)
                connection.sendall(b"SSH-2.0-OpenSSH\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        assert healthcheck.main({"PORT": str(listener.getsockname()[1])}) == 1
        thread.join(5)
    assert capsys.readouterr().out.startswith("unhealthy: 127.0.0.1:")


@pytest.mark.parametrize(
    "env, variable",
    [
        ({"PORT": "abc"}, "PORT"),
        ({"HOST": "localhost"}, "HOST"),
        ({"HEALTHCHECK_PATH": "healthz"}, "HEALTHCHECK_PATH"),
        ({"HEALTHCHECK_PATH": "/a b"}, "HEALTHCHECK_PATH"),
    ],
)
def test_bad_configuration_is_unhealthy(env, variable, capsys):
    assert healthcheck.main(env) == 1
    (line,) = capsys.readouterr().out.splitlines()
    assert line.startswith(f"django-asgi: {variable}=")
