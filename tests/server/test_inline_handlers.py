"""Where a quick RPC handler runs: on the event loop always on SQLite; on PostgreSQL when its
request is the only one the worker has under way, else on the handler threads (a search or
stream under way keeps the loop); never on the loop over a REST backend. Through the server
middleware, which counts the requests under way."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tracklet.server.middleware import ServerMiddleware
from tracklet.server.router import DirectRpc
from tracklet.server.rpc import ServerState, rpc
from tracklet.server.settings import ServerSettings
from tracklet.wire import endpoints as ep


class _App:
    def __init__(self, state: ServerState) -> None:
        self.state = type("State", (), {"tracklet": state})()


def _served(inline_ok: bool, inline_when_alone: bool, others_under_way: int) -> str:
    """The thread a quick handler ran on for one request, with ``others_under_way`` requests
    of the same worker waiting in the middleware meanwhile."""
    ran_on: list[str] = []

    def handler(state: ServerState, fields: dict[str, Any]) -> dict[str, Any]:
        ran_on.append(threading.current_thread().name)
        return {}

    routes = rpc(ep.SERVER_INFO, handler, threaded=False)
    state = ServerState(
        ServerSettings(backend_store_uri="sqlite://"),
        store=None,  # type: ignore[arg-type]
        inline_ok=inline_ok,
        inline_when_alone=inline_when_alone,
    )
    middleware = ServerMiddleware(_no_app, None, None, direct=DirectRpc(routes, {}))
    app = _App(state)

    async def request(path: str, release: asyncio.Event | None = None) -> None:
        scope = {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": [(b"host", b"127.0.0.1")],
            "app": app,
            "client": ("127.0.0.1", 1),
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if release is not None and message["type"] == "http.response.start":
                await release.wait()  # a response still streaming: its request under way

        await middleware(scope, receive, send)

    async def requests() -> None:
        release = asyncio.Event()
        others = [
            asyncio.ensure_future(request("/api/3.0/mlflow/server-info", release))
            for _ in range(others_under_way)
        ]
        await asyncio.sleep(0.01)  # they reached their send and wait there
        ran_on.clear()
        await request("/api/3.0/mlflow/server-info")
        release.set()
        await asyncio.gather(*others)

    asyncio.run(requests())
    (thread,) = ran_on
    return thread


async def _no_app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover
    raise AssertionError("the RPC is called directly")


@pytest.mark.parametrize(
    ("inline_ok", "inline_when_alone", "others", "where"),
    [
        (True, True, 0, "loop"),  # SQLite
        (True, True, 2, "loop"),  # SQLite, whatever else is under way
        (False, True, 0, "loop"),  # PostgreSQL, alone
        (False, True, 1, "threads"),  # PostgreSQL, another request under way
        (False, False, 0, "threads"),  # a REST backend
    ],
)
def test_where_a_quick_handler_runs(
    inline_ok: bool, inline_when_alone: bool, others: int, where: str
) -> None:
    thread = _served(inline_ok, inline_when_alone, others)
    assert ("threads" if thread == "tracklet-handler" else "loop") == where, thread


def test_the_middleware_counts_requests_under_way_and_releases_them() -> None:
    middleware = ServerMiddleware(_no_app, None, None, direct=DirectRpc([], {}))
    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["tracklet.active"].count)
        raise RuntimeError("boom")  # answered with a 500, and the count still released

    middleware.app = app
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    scope = {"type": "http", "method": "GET", "path": "/x", "query_string": b"", "headers": []}
    asyncio.run(middleware(dict(scope), receive, send))
    asyncio.run(middleware(dict(scope), receive, send))
    assert seen == [1, 1]
    assert middleware.active.count == 0
    assert [m["status"] for m in sent if m["type"] == "http.response.start"] == [500, 500]
