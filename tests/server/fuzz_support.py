"""What the two fuzzers (test_fuzz.py, test_fuzz_routes.py) share: one request sent straight to
the ASGI app (no HTTP client, no socket), and the "was anything written?" fingerprint taken
after the background work an earlier 2xx started has settled."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Callable
from typing import Any


async def call(
    app: Any, method: str, path: str, query: bytes, body: bytes, headers: list[tuple[bytes, bytes]]
) -> int:
    """The status the app answers (a live event stream's status once it starts)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": urllib.parse.unquote(path, errors="replace"),
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    sent = False
    status = 0
    done = asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            response_headers = dict(message.get("headers", []))
            if response_headers.get(b"content-type", b"").startswith(b"text/event-stream"):
                done.set()  # a live stream (the UI's events): its status is the answer
        elif not message.get("more_body"):
            done.set()

    task = asyncio.ensure_future(app(scope, receive, send))
    waiter = asyncio.ensure_future(done.wait())
    await asyncio.wait({task, waiter}, timeout=120, return_when=asyncio.FIRST_COMPLETED)
    for pending in (task, waiter):
        pending.cancel()
    await asyncio.gather(task, waiter, return_exceptions=True)
    return status


def settled(store: Any, digest: Callable[[], Any]) -> Callable[[], Any]:
    """``digest`` taken once the store is idle: background work an earlier 2xx started is not
    the next request's, so let the repacker finish and fold pending wide metric batches (a
    read does; a 2xx log-batch defers them) before each fingerprint."""

    def fingerprint() -> Any:
        store._repacker.flush()
        store.get_experiment("0")
        return digest()

    return fingerprint


def count_failures(failures: list[Any]) -> int:
    """The 5xx answers among a fuzzer's failures (the rest are writes on a 4xx)."""
    return sum(1 for f in failures if f[0] != "written on")
