"""The REST store's direct transport: requests and responses intact, connections kept alive with
TCP_NODELAY, a connection the server closed replaced without losing the request, chunked and
gzip answers decoded, and the HTTP client using it for plain http:// servers."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from tracklet.store.rest import transport as transport_module
from tracklet.store.rest.http import HttpClient
from tracklet.store.rest.transport import DirectTransport
from tracklet.wire import endpoints as ep


def _direct(port: int, prefix: str = "") -> DirectTransport:
    return DirectTransport(f"http://127.0.0.1:{port}{prefix}", [("User-Agent", "t")], 5.0, 5.0)


class RawServer:
    """A loopback HTTP/1.1 server answering each request with a canned JSON body; it records
    the requests and, with ``close_after_each``, drops the connection after each answer
    without saying so (as a server whose keep-alive timeout expired does)."""

    def __init__(
        self, close_after_each: bool = False, gzip_body: bool = False, chunked: bool = False
    ) -> None:
        self.close_after_each = close_after_each
        self.gzip_body = gzip_body
        self.chunked = chunked
        self.sockets: list[socket.socket] = []
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.sockets.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buffer += chunk
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                body, buffer = buffer[:length], buffer[length:]
                self.requests.append(head + b"\r\n\r\n" + body)
                payload = b'{"n": %d}' % len(self.requests)
                extra = b""
                if self.gzip_body:
                    payload = gzip.compress(payload)
                    extra = b"Content-Encoding: gzip\r\n"
                if self.chunked:  # in two chunks, with a trailer
                    half = len(payload) // 2
                    framing = b"Transfer-Encoding: chunked\r\n\r\n"
                    payload = b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nX-T: 1\r\n\r\n" % (
                        half,
                        payload[:half],
                        len(payload) - half,
                        payload[half:],
                    )
                else:
                    framing = b"Content-Length: %d\r\n\r\n" % len(payload)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + extra
                    + framing
                    + payload
                )
                if self.close_after_each:
                    return

    def close(self) -> None:
        self.listener.close()


@pytest.fixture
def make_server() -> Iterator[type[RawServer]]:
    servers: list[RawServer] = []

    class Tracked(RawServer):
        def __init__(self, **kwargs: bool) -> None:
            super().__init__(**kwargs)
            servers.append(self)

    yield Tracked
    for server in servers:
        server.close()


def test_requests_are_sent_whole_and_connections_reused(make_server: type[RawServer]) -> None:
    server = make_server()
    transport = _direct(server.port, "/pre fix")
    posted = transport.request("POST", "api/x", (), b'{"a": 1}', {"X-T": "1"})
    fetched = transport.request("GET", "api/y", [("q", "a b/c"), ("n", "2")])
    assert posted.status_code == 200
    assert posted.content == b'{"n": 1}'
    assert posted.headers["content-type"] == "application/json"
    assert posted.url == f"http://127.0.0.1:{server.port}/pre%20fix/api/x"
    assert fetched.content == b'{"n": 2}'
    assert server.connections == 1  # kept alive
    (sock,) = server.sockets
    first, second = server.requests
    assert first.startswith(b"POST /pre%20fix/api/x HTTP/1.1\r\n")
    assert f"\r\nHost: 127.0.0.1:{server.port}\r\n".encode() in first
    assert b"\r\nUser-Agent: t\r\n" in first
    assert b"\r\nX-T: 1\r\n" in first
    assert b"\r\nContent-Length: 8\r\n" in first
    assert first.endswith(b'\r\n\r\n{"a": 1}')
    assert second.startswith(b"GET /pre%20fix/api/y?q=a+b%2Fc&n=2 HTTP/1.1\r\n")
    assert b"Content-Length" not in second
    (conn,) = transport._idle
    assert conn.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    assert conn.sock.getsockname() == sock.getpeername()  # the same socket both times
    transport.close()


def test_a_connection_closed_by_the_server_is_replaced(
    make_server: type[RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(close_after_each=True)
    transport = _direct(server.port)
    assert [transport.request("POST", "x", (), b"{}").content for _ in range(3)] == [
        b'{"n": 1}',
        b'{"n": 2}',
        b'{"n": 3}',
    ]
    # Closed after the check that should notice it: the request is sent once more.
    monkeypatch.setattr(transport_module._Connection, "is_dead", lambda self: False)
    assert [transport.request("POST", "x", (), b"{}").content for _ in range(3)] == [
        b'{"n": 4}',
        b'{"n": 5}',
        b'{"n": 6}',
    ]
    assert len(server.requests) == 6
    assert server.connections == 6
    transport.close()


def test_chunked_and_gzip_bodies_are_decoded_and_refused_connections_are_connect_errors(
    make_server: type[RawServer],
) -> None:
    for server in (make_server(gzip_body=True), make_server(chunked=True)):
        transport = _direct(server.port)
        assert [transport.request("GET", "x").content for _ in range(2)] == [
            b'{"n": 1}',
            b'{"n": 2}',
        ]
        assert server.connections == 1  # the chunked answer was read to its end
        transport.close()
        server.close()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        unused = probe.getsockname()[1]
    with pytest.raises(httpx.ConnectError):
        _direct(unused).request("GET", "x")


def test_the_client_uses_it_for_plain_http_only(
    make_server: type[RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "user")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pass")
    server = make_server()
    client = HttpClient(f"http://127.0.0.1:{server.port}")
    assert client._direct is not None
    assert client._client is None
    assert client.call(ep.LOG_PARAM, {"run_id": "r", "key": "k", "value": "v"}) == {"n": 1}
    (request,) = server.requests
    assert request.startswith(b"POST /api/2.0/mlflow/runs/log-parameter HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Basic dXNlcjpwYXNz\r\n" in request  # user:pass
    assert b"\r\nContent-Type: application/json\r\n" in request
    assert request.endswith(b'\r\n\r\n{"run_id":"r","key":"k","value":"v"}')
    client.close()
    secure = HttpClient("https://tracking.example.com")
    assert secure._direct is None
    assert secure._client is not None
    secure.close()


def test_only_plain_http_without_a_proxy_or_credentials_uses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert transport_module.suits("http://127.0.0.1:5000")
    assert transport_module.suits("http://[::1]:5000/prefix")
    assert not transport_module.suits("https://tracking.example.com")
    assert not transport_module.suits("http://user:pw@127.0.0.1:5000")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.com:3128")
    assert not transport_module.suits("http://127.0.0.1:5000")
