"""The server's HTTP protocol: a response's head and body leave in one write, nothing is lost,
reordered or left waiting (HEAD, streams, errors, close)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from tests.live_server import serving

from tracklet.server.protocol import CoalescingHttpToolsProtocol, _CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info:{name}"


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _turn(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_head_and_body_leave_in_one_write(loop: asyncio.AbstractEventLoop) -> None:
    inner = FakeTransport()
    transport = _CoalescingTransport(inner, loop)  # type: ignore[arg-type]
    transport.write(HEAD)
    assert inner.writes == []
    transport.write(b"{}")
    assert inner.writes == [HEAD + b"{}"]
    transport.write(b"more")  # later body chunks pass straight through
    _turn(loop)
    assert inner.writes == [HEAD + b"{}", b"more"]


def test_a_head_alone_is_flushed_on_the_next_loop_turn(loop: asyncio.AbstractEventLoop) -> None:
    inner = FakeTransport()
    transport = _CoalescingTransport(inner, loop)  # type: ignore[arg-type]
    transport.write(HEAD)  # e.g. a HEAD request: uvicorn writes no body
    _turn(loop)
    assert inner.writes == [HEAD]
    transport.write(b"next")
    assert inner.writes == [HEAD, b"next"]


def test_close_flushes_first_and_other_calls_reach_the_transport(
    loop: asyncio.AbstractEventLoop,
) -> None:
    inner = FakeTransport()
    transport = _CoalescingTransport(inner, loop)  # type: ignore[arg-type]
    transport.write(HEAD)
    transport.close()
    assert inner.writes == [HEAD]
    assert inner.closed
    assert transport.get_extra_info("peername") == "info:peername"
    _turn(loop)  # the scheduled flush finds nothing left to write
    assert inner.writes == [HEAD]


def test_a_large_first_chunk_is_not_copied_onto_the_head(
    loop: asyncio.AbstractEventLoop,
) -> None:
    inner = FakeTransport()
    transport = _CoalescingTransport(inner, loop)  # type: ignore[arg-type]
    chunk = b"x" * (1024 * 1024)
    transport.write(HEAD)
    transport.write(chunk)
    assert inner.writes == [HEAD, chunk]


# ------------------------------------------------------------------ a live server


async def _json(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def _stream(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"first,"
        await asyncio.sleep(0.05)
        yield b"second"

    return StreamingResponse(body(), media_type="text/plain")


async def _empty(request: Request) -> Response:
    return Response(status_code=204)


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    app = Starlette(
        routes=[
            Route("/json", _json, methods=["GET", "HEAD"]),
            Route("/stream", _stream),
            Route("/empty", _empty),
        ]
    )
    with serving(app, http=CoalescingHttpToolsProtocol) as free:
        yield free


def _exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` and read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def _get(method: str, path: str) -> bytes:
    return f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()


def test_a_json_response_arrives_as_one_segment(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for _ in range(3):  # keep-alive: every response on the connection
            sock.sendall(b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            data = sock.recv(65536)  # one write on loopback: head and body in one read
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert data.endswith(b'\r\n\r\n{"ok":true}')


def test_head_empty_streamed_and_malformed_responses_arrive_whole(port: int) -> None:
    head = _exchange(port, _get("HEAD", "/json"))
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert head.endswith(b"\r\n\r\n")
    assert b"content-length: 11" in head
    empty = _exchange(port, _get("GET", "/empty"))
    assert empty.startswith(b"HTTP/1.1 204 No Content\r\n")
    streamed = _exchange(port, _get("GET", "/stream"))
    assert streamed.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"first," in streamed
    assert b"second" in streamed
    assert streamed.index(b"first,") < streamed.index(b"second")
    bad = _exchange(port, b"NOT HTTP AT ALL\r\n\r\n")
    assert bad.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert bad.endswith(b"Invalid HTTP request received.")
