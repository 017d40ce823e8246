"""A lean httpx transport for plain-HTTP tracking servers, on the standard library.

httpx's default transport (httpcore and the pure-Python h11 parser) costs ~0.4 ms of CPU per
request on top of httpx's own ~0.15 ms; :mod:`http.client`'s response parser costs ~0.1 ms.
Every metric logged through a server pays it, so ``http://`` servers are reached through this
transport: keep-alive sockets (one per concurrent request, pooled), each request written with a
single ``sendall`` (head and body in one segment, so the server wakes once), responses read by
:class:`http.client.HTTPResponse`. A pooled connection the server has closed is noticed before
use, and a request that fails on a reused connection is sent once more on a fresh one (the
server closes only idle connections, so it never saw that request). ``https://`` and proxied
URLs keep httpx's transport.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import urllib.request

import httpx

_STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class _Connection:
    __slots__ = ("sock",)

    def __init__(self, host: str, port: int, timeout: float | None) -> None:
        self.sock = socket.create_connection((host, port), timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def is_dead(self) -> bool:
        """True if the server closed it (or sent something unasked): readable while idle."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


class StdlibTransport(httpx.BaseTransport):
    """httpx requests to one plain-HTTP origin over pooled :mod:`http.client` connections."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[_Connection]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            raise httpx.UnsupportedProtocol(f"StdlibTransport serves http:// only, not {url}")
        origin = (url.host, url.port or 80)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        payload = _serialize(request)
        reused = self._take(origin)
        if reused is not None:
            try:
                return self._exchange(reused, origin, request, payload, timeouts)
            except _STALE_ERRORS:
                reused.close()  # closed under us: the server never saw the request; once more
        try:
            fresh = _Connection(origin[0], origin[1], timeouts.get("connect"))
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc), request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc), request=request) from exc
        try:
            return self._exchange(fresh, origin, request, payload, timeouts)
        except _STALE_ERRORS as exc:
            fresh.close()
            raise httpx.RemoteProtocolError(str(exc), request=request) from exc

    def _exchange(
        self,
        conn: _Connection,
        origin: tuple[str, int],
        request: httpx.Request,
        payload: bytes,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        try:
            conn.sock.settimeout(timeouts.get("write"))
            conn.sock.sendall(payload)
            conn.sock.settimeout(timeouts.get("read"))
            response = http.client.HTTPResponse(conn.sock, method=request.method)
            try:
                response.begin()
                content = response.read()
            finally:
                response.close()  # the reader only; the socket stays ours
        except _STALE_ERRORS:
            raise
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(str(exc), request=request) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise httpx.ReadError(str(exc), request=request) from exc
        if response.will_close:
            conn.close()
        else:
            self._give_back(origin, conn)
        return httpx.Response(
            response.status,
            headers=[(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.getheaders()],
            content=content,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    def _take(self, origin: tuple[str, int]) -> _Connection | None:
        with self._lock:
            idle = self._idle.get(origin)
            while idle:
                conn = idle.pop()
                if not conn.is_dead():
                    return conn
                conn.close()
        return None

    def _give_back(self, origin: tuple[str, int], conn: _Connection) -> None:
        with self._lock:
            self._idle.setdefault(origin, []).append(conn)

    def close(self) -> None:
        with self._lock:
            for idle in self._idle.values():
                for conn in idle:
                    conn.close()
            self._idle.clear()


def _serialize(request: httpx.Request) -> bytes:
    """The request line, headers and body as one buffer (httpx already set Host and
    Content-Length)."""
    url = request.url
    head = [f"{request.method} {url.raw_path.decode('ascii')} HTTP/1.1".encode("ascii")]
    head.extend(name + b": " + value for name, value in request.headers.raw)
    body = request.read()
    if body and "content-length" not in request.headers:  # a streamed body: send it chunked
        if "transfer-encoding" not in request.headers:
            head.append(b"Transfer-Encoding: chunked")
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def suits(base_url: str) -> bool:
    """Whether ``base_url`` is served by :class:`StdlibTransport`: plain HTTP with no proxy
    configured (``HTTP_PROXY``/``ALL_PROXY``: httpx's transport honours those)."""
    proxies = urllib.request.getproxies()
    return base_url.startswith("http://") and not ("http" in proxies or "all" in proxies)
