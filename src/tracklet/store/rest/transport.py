"""Plain-HTTP requests to a tracking server straight over pooled sockets, without httpx.

Every metric logged through a server pays the client's cost per request. httpx's ``Client``
layer alone (URL merging and parsing twice, Request and Response objects, header models,
auth and cookie hooks) cost ~0.4 ms of CPU per request, several times the JSON encoding of a
100-point batch, and ``http.client``'s response parser (``email.feedparser``) ~0.1 ms more. So
``http://`` servers without a proxy or credentials in the URL are reached here: the request
head is prepared once per client and each request leaves as one ``sendall`` (head and body in
one segment, so the server wakes once); the response is parsed from the bytes read
(``Content-Length``, chunked, or until close; gzip/deflate bodies decoded); sockets are kept
alive (one per concurrent request, pooled) with TCP_NODELAY. A pooled connection the server
has closed is noticed before use, and a request that fails on a reused connection before any
answer arrives is sent once more on a fresh one (the server closes only idle connections, so
it never saw it). Failures are raised as httpx's exception classes, which the client's retry
logic handles for both paths. ``https://`` and proxied URLs keep httpx.
"""

from __future__ import annotations

import select
import socket
import threading
import urllib.parse
import urllib.request
import zlib
from collections.abc import Sequence

import httpx

_STALE_ERRORS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_MAX_HEAD = 64 * 1024
_RECV = 256 * 1024
_NO_BODY_STATUSES = frozenset({204, 304})


# Header lines already parsed: a server answers each call with the same few lines (only its
# Date changes, once a second), and splitting, stripping and decoding each of them was a tenth of
# the client's CPU per logged step.
_HEADER_LINES: dict[bytes, tuple[str, str]] = {}
_HEADER_LINES_KEPT = 256


class _Stale(Exception):
    """A reused connection was closed before any byte of the answer arrived."""


class Reply:
    """A response: status, headers (lower-case names; repeated ones joined with ", "), body."""

    __slots__ = ("content", "headers", "status_code", "url")

    def __init__(self, status_code: int, headers: dict[str, str], content: bytes, url: str):
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.url = url


class _Connection:
    __slots__ = ("sock",)

    def __init__(
        self, host: str, port: int, timeout: float | None, connect_timeout: float | None
    ) -> None:
        self.sock = socket.create_connection((host, port), connect_timeout)
        # Each request is one write, so Nagle's algorithm could only delay it.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(timeout)

    def is_dead(self) -> bool:
        """True if the server closed it (or sent something unasked): readable while idle."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        self.sock.close()


class DirectTransport:
    """Requests to one plain-HTTP origin.

    Args:
        base_url: ``http://host[:port][/prefix]``; every request path is relative to it.
        headers: Sent with every request (User-Agent, Authorization...).
        timeout: Seconds a send or a read may wait (None: forever).
        connect_timeout: Seconds connecting may take.
    """

    def __init__(
        self,
        base_url: str,
        headers: Sequence[tuple[str, str]],
        timeout: float | None,
        connect_timeout: float | None,
    ) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"DirectTransport serves http:// URLs only, not {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.origin = f"http://{parts.netloc}"
        self.prefix = urllib.parse.quote(parts.path.rstrip("/"), safe="/%:@!$&'()*+,;=~")
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        netloc_host = f"[{self.host}]" if ":" in self.host else self.host
        host_header = netloc_host if self.port == 80 else f"{netloc_host}:{self.port}"
        # No "Accept: */*" nor "Connection: keep-alive": HTTP/1.1's defaults, and each header
        # line is a parser callback and a loop turn on the server, every request.
        fixed = [("Host", host_header), ("Accept-Encoding", "gzip, deflate"), *headers]
        self._head_tail = "".join(f"{name}: {value}\r\n" for name, value in fixed).encode("latin-1")
        self._idle: list[_Connection] = []
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        """Send one request (``path`` relative to the base URL) and read its answer.

        Raises:
            httpx.ConnectError, httpx.ConnectTimeout: no connection could be made.
            httpx.ReadTimeout, httpx.WriteTimeout: connected, but no answer in time.
            httpx.ReadError, httpx.RemoteProtocolError: the exchange broke.
        """
        target = f"{self.prefix}/{urllib.parse.quote(path, safe='/%:@!$&()*+,;=~')}"
        if params:
            target += "?" + urllib.parse.urlencode(params)
        payload = self._serialize(method, target, content, headers)
        url = self.origin + target
        reused = self._take()
        if reused is not None:
            try:
                return self._exchange(reused, method, payload, url)
            except _Stale:
                reused.close()  # closed under us: the server never saw the request; once more
        try:
            fresh = _Connection(self.host, self.port, self.timeout, self.connect_timeout)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(str(exc) or "timed out") from exc
        except OSError as exc:
            raise httpx.ConnectError(str(exc)) from exc
        try:
            return self._exchange(fresh, method, payload, url)
        except _Stale as exc:
            raise httpx.RemoteProtocolError(
                f"the server closed the connection without answering: {exc}"
            ) from exc

    def _serialize(
        self, method: str, target: str, content: bytes | None, headers: dict[str, str] | None
    ) -> bytes:
        head = f"{method} {target} HTTP/1.1\r\n".encode() + self._head_tail
        if headers:
            head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode(
                "latin-1"
            )
        if content is None:
            if method in ("POST", "PUT", "PATCH"):
                head += b"Content-Length: 0\r\n"
            return head + b"\r\n"
        return head + b"Content-Length: %d\r\n\r\n" % len(content) + content

    def _exchange(self, conn: _Connection, method: str, payload: bytes, url: str) -> Reply:
        sock = conn.sock
        try:
            try:
                sock.sendall(payload)
            except TimeoutError as exc:
                raise httpx.WriteTimeout(str(exc) or "timed out") from exc
            except _STALE_ERRORS as exc:
                raise _Stale(str(exc)) from exc
            status, headers, content, will_close = _read_response(sock, method)
        except _Stale:
            conn.close()
            raise
        except TimeoutError as exc:
            conn.close()
            raise httpx.ReadTimeout(str(exc) or "timed out") from exc
        except httpx.TransportError:
            conn.close()
            raise
        except OSError as exc:
            conn.close()
            raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc
        if will_close:
            conn.close()
        else:
            with self._lock:
                self._idle.append(conn)
        return Reply(status, headers, content, url)

    def _take(self) -> _Connection | None:
        with self._lock:
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_dead():
                    return conn
                conn.close()
        return None

    def close(self) -> None:
        with self._lock:
            for conn in self._idle:
                conn.close()
            self._idle.clear()


def _read_response(sock: socket.socket, method: str) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, decoded body and whether the server will close the connection.

    Raises:
        _Stale: the connection closed (or was reset) before any byte arrived.
        httpx.RemoteProtocolError: the answer is not HTTP/1.x or ends early.
    """
    buffer = b""
    while True:  # a 1xx interim answer (100 Continue...) is followed by the real one
        try:
            buffer = _read_head(sock, buffer)
        except _STALE_ERRORS as exc:
            if buffer:
                raise httpx.ReadError(f"{type(exc).__name__}: {exc}") from exc
            raise _Stale(str(exc)) from exc
        end = buffer.index(b"\r\n\r\n")
        lines = buffer[:end].split(b"\r\n")
        buffer = buffer[end + 4 :]
        version, _, rest = lines[0].partition(b" ")
        code = rest[:3]
        if not version.startswith(b"HTTP/1.") or not code.isdigit():
            raise httpx.RemoteProtocolError(f"not an HTTP/1.x status line: {lines[0][:100]!r}")
        status = int(code)
        if not 100 <= status < 200 or status == 101:
            break
    headers: dict[str, str] = {}
    for line in lines[1:]:
        parsed = _HEADER_LINES.get(line)
        if parsed is None:
            name, colon, value = line.partition(b":")
            if not colon:
                continue
            parsed = (name.strip().lower().decode("latin-1"), value.strip().decode("latin-1"))
            if len(_HEADER_LINES) >= _HEADER_LINES_KEPT:
                _HEADER_LINES.clear()
            _HEADER_LINES[line] = parsed
        key, text = parsed
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    connection = headers.get("connection", "").lower()
    will_close = "close" in connection or (
        version == b"HTTP/1.0" and "keep-alive" not in connection
    )
    if method == "HEAD" or status in _NO_BODY_STATUSES or status < 200:
        body = b""
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        body, buffer = _read_chunked(sock, buffer)
    elif "content-length" in headers:
        length_text = headers["content-length"].split(",")[0].strip()
        if not length_text.isdigit():
            raise httpx.RemoteProtocolError(f"bad Content-Length {length_text!r}")
        length = int(length_text)
        body, buffer = _read_exactly(sock, buffer, length)
    else:
        body, buffer, will_close = _read_to_close(sock, buffer), b"", True
    if buffer:
        will_close = True  # bytes nobody asked for: the connection is out of step
    encoding = headers.get("content-encoding")
    if encoding and body:
        body = _decode(body, encoding)
    return status, headers, body, will_close


def _read_head(sock: socket.socket, buffer: bytes) -> bytes:
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_HEAD:
            raise httpx.RemoteProtocolError(f"response head over {_MAX_HEAD} bytes")
        chunk = sock.recv(_RECV)
        if not chunk:
            if buffer:
                raise httpx.RemoteProtocolError("the server closed the connection mid-answer")
            raise ConnectionResetError("closed by the server")
        buffer += chunk
    return buffer


def _read_exactly(sock: socket.socket, buffer: bytes, length: int) -> tuple[bytes, bytes]:
    if len(buffer) >= length:
        return buffer[:length], buffer[length:]
    parts = [buffer]
    have = len(buffer)
    while have < length:
        chunk = sock.recv(max(_RECV, length - have))
        if not chunk:
            raise httpx.RemoteProtocolError(
                f"the server closed the connection after {have} of {length} body bytes"
            )
        parts.append(chunk)
        have += len(chunk)
    data = b"".join(parts)
    return data[:length], data[length:]


def _read_line(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    while b"\r\n" not in buffer:
        chunk = sock.recv(_RECV)
        if not chunk:
            raise httpx.RemoteProtocolError("the server closed the connection mid-chunk")
        buffer += chunk
    line, _, rest = buffer.partition(b"\r\n")
    return line, rest


def _read_chunked(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    parts: list[bytes] = []
    while True:
        line, buffer = _read_line(sock, buffer)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise httpx.RemoteProtocolError(f"bad chunk size {size_text[:20]!r}") from None
        if size == 0:
            while True:  # trailers, up to the empty line
                line, buffer = _read_line(sock, buffer)
                if not line:
                    return b"".join(parts), buffer
        chunk, buffer = _read_exactly(sock, buffer, size + 2)
        parts.append(chunk[:size])


def _read_to_close(sock: socket.socket, buffer: bytes) -> bytes:
    parts = [buffer]
    while True:
        chunk = sock.recv(_RECV)
        if not chunk:
            return b"".join(parts)
        parts.append(chunk)


def _decode(body: bytes, encoding: str) -> bytes:
    """Undo gzip/deflate content codings (the last applied first); others are left alone."""
    for coding in reversed([c.strip().lower() for c in encoding.split(",")]):
        try:
            if coding in ("gzip", "x-gzip"):
                body = zlib.decompress(body, zlib.MAX_WBITS | 16)
            elif coding == "deflate":
                try:
                    body = zlib.decompress(body)
                except zlib.error:  # raw deflate, as some servers send it
                    body = zlib.decompress(body, -zlib.MAX_WBITS)
        except zlib.error as exc:
            raise httpx.DecodingError(f"cannot decode a {coding} body: {exc}") from exc
    return body


def suits(base_url: str) -> bool:
    """Whether ``base_url`` is served by :class:`DirectTransport`: plain HTTP, no credentials
    in the URL, and no proxy configured (``HTTP_PROXY``/``ALL_PROXY``: httpx honours those)."""
    if not base_url.startswith("http://"):
        return False
    parts = urllib.parse.urlsplit(base_url)
    if "@" in parts.netloc or parts.hostname is None:
        return False
    try:
        parts.port  # noqa: B018  (a malformed port is httpx's to report)
    except ValueError:
        return False
    proxies = urllib.request.getproxies()
    return not ("http" in proxies or "all" in proxies)
