"""uvicorn's HTTP protocol with each response's head and first body bytes in one write.

uvicorn writes a response's status line and headers as soon as the app sends
``http.response.start``, and the body in a second write. On a keep-alive connection each write
is a TCP segment of its own: the client is woken for the head, reads it, sleeps, and is woken
again for the body (measured: ~1.4 reads per ``log_metric`` call with MLflow's client), and the
server makes two ``send`` calls. Here the head is held until the next write, which the RPC
handlers issue at once, so a JSON response leaves as one segment. A head with no body after it
(HEAD, 204, a stream still working) is flushed on the event loop's next turn, and before the
connection closes, so nothing waits and order is kept.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

_HEAD = b"HTTP/1.1 "
_JOIN_LIMIT = 64 * 1024


class _CoalescingTransport:
    """A transport wrapper that holds a response head until the next write (or loop turn)."""

    __slots__ = ("_flush_handle", "_loop", "_pending", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: bytes | None = None
        self._flush_handle: asyncio.Handle | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        pending = self._pending
        if pending is not None:
            self._pending = None
            if self._flush_handle is not None:
                self._flush_handle.cancel()
                self._flush_handle = None
            if len(data) <= _JOIN_LIMIT:
                self._transport.write(pending + bytes(data))
            else:  # a large chunk: not worth copying to save a segment
                self._transport.write(pending)
                self._transport.write(data)
        elif type(data) is bytes and data.startswith(_HEAD):
            self._pending = data
            self._flush_handle = self._loop.call_soon(self.flush)
        else:
            self._transport.write(data)

    def write_response(self, data: bytes) -> None:
        """A whole response, head and body in ``data``: written now, after any head held."""
        if self._pending is not None:
            self.write(data)  # joined to the held head, which is sent first
        else:
            self._transport.write(data)

    def flush(self) -> None:
        self._flush_handle = None
        pending, self._pending = self._pending, None
        if pending is not None and not self._transport.is_closing():
            self._transport.write(pending)

    def writelines(self, chunks: Any) -> None:
        self.write(b"".join(chunks))

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # get_extra_info, pause_reading, resume_reading, is_closing, ...: the real transport's.
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through :class:`_CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wrapped: Any = _CoalescingTransport(transport, self.loop)
        super().connection_made(wrapped)
