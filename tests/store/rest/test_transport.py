"""The REST store's stdlib transport: requests and responses intact, connections kept alive,
a connection the server closed replaced without losing the request."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from tracklet.store.rest import transport as transport_module
from tracklet.store.rest.transport import StdlibTransport


class RawServer:
    """A loopback HTTP/1.1 server answering each request with a canned JSON body; it records
    the requests and, with ``close_after_each``, drops the connection after each answer
    without saying so (as a server whose keep-alive timeout expired does)."""

    def __init__(self, close_after_each: bool = False, gzip_body: bool = False) -> None:
        self.close_after_each = close_after_each
        self.gzip_body = gzip_body
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
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + extra
                    + b"Content-Length: %d\r\n\r\n" % len(payload)
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
    with httpx.Client(transport=StdlibTransport()) as client:
        base = f"http://127.0.0.1:{server.port}"
        posted = client.post(f"{base}/api/x", content=b'{"a": 1}', headers={"X-T": "1"})
        fetched = client.get(f"{base}/api/y", params={"q": "a b", "n": "2"})
    assert posted.status_code == 200
    assert posted.json() == {"n": 1}
    assert posted.headers["content-type"] == "application/json"
    assert fetched.json() == {"n": 2}
    assert server.connections == 1  # kept alive
    first, second = server.requests
    assert first.startswith(b"POST /api/x HTTP/1.1\r\n")
    assert b"\r\nx-t: 1\r\n" in first.lower()
    assert b"\r\ncontent-length: 8\r\n" in first.lower()
    assert first.endswith(b'\r\n\r\n{"a": 1}')
    assert second.startswith(b"GET /api/y?q=a+b&n=2 HTTP/1.1\r\n")


def test_a_connection_closed_by_the_server_is_replaced(
    make_server: type[RawServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(close_after_each=True)
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(transport=StdlibTransport()) as client:
        assert [client.post(f"{base}/x", content=b"{}").json()["n"] for _ in range(3)] == [1, 2, 3]
        # Closed after the check that should notice it: the request is sent once more.
        monkeypatch.setattr(transport_module._Connection, "is_dead", lambda self: False)
        assert [client.post(f"{base}/x", content=b"{}").json()["n"] for _ in range(3)] == [4, 5, 6]
    assert len(server.requests) == 6


def test_gzip_bodies_are_decoded_and_refused_connections_are_connect_errors(
    make_server: type[RawServer],
) -> None:
    server = make_server(gzip_body=True)
    with httpx.Client(transport=StdlibTransport()) as client:
        assert client.get(f"http://127.0.0.1:{server.port}/x").json() == {"n": 1}
        server.close()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            unused = probe.getsockname()[1]
        with pytest.raises(httpx.ConnectError):
            client.get(f"http://127.0.0.1:{unused}/x")


def test_only_plain_http_without_a_proxy_uses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert transport_module.suits("http://127.0.0.1:5000")
    assert not transport_module.suits("https://tracking.example.com")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.com:3128")
    assert not transport_module.suits("http://127.0.0.1:5000")
