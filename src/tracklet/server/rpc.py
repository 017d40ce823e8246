"""Turning a handler ``(state, fields) -> dict`` into Starlette routes for one endpoint.

The wrapper does the protocol work once for every RPC: the Content-Type check on POST/PUT, the
body size limit, decoding the JSON body or query string with the endpoint's field list, running
the handler (on the event loop or the thread pool, see :func:`rpc`), and encoding the JSON
response. Errors are raised as :class:`MlflowException` and rendered by the one handler in
:mod:`.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from tracklet import jsonio
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.artifact_files import ProxyArtifacts
from tracklet.server.handler_threads import handler_threads
from tracklet.server.settings import ServerSettings
from tracklet.store.base import TrackingStore
from tracklet.wire.decode import decode, parse_body, parse_query
from tracklet.wire.endpoints import Endpoint

JSON = "application/json"


@dataclass
class ServerState:
    """What handlers see: the settings, this worker's store and the artifact proxy's root."""

    settings: ServerSettings
    store: TrackingStore
    proxy: ProxyArtifacts | None = None
    # Quick handlers run on the event loop: always on SQLite, whose calls take microseconds
    # (TrackingStore.is_local); on PostgreSQL (TrackingStore.quick_calls) when the request is
    # the only one this worker has under way (``ActiveRequests``); never over a REST backend.
    inline_ok: bool = True
    inline_when_alone: bool = False


Handler = Callable[[ServerState, dict[str, Any]], dict[str, Any]]
ACTIVE_KEY = "tracklet.active"


class ActiveRequests:
    """How many requests a worker has under way (the server middleware counts them in its
    scope under ``ACTIVE_KEY``)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class PayloadTooLarge(Exception):
    """A request body over the configured limit (answered with 413)."""

    def __init__(self, limit: int, what: str = "Request body") -> None:
        super().__init__(f"{what} exceeds the server's limit of {limit} bytes")
        self.limit = limit


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.tracklet
    return state


def check_content_type(content_type: str | None) -> None:
    if content_type is None:
        raise MlflowException(
            "Bad Request. Content-Type header is missing.", INVALID_PARAMETER_VALUE
        )
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise MlflowException(
            f"Bad Request. Content-Type must be one of ['{JSON}'].", INVALID_PARAMETER_VALUE
        )


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(jsonio.dumps(body), status_code=status, media_type=JSON)


class RpcApp:
    """The ASGI app of one endpoint: no Request or Response objects on the hot path."""

    def __init__(self, endpoint: Endpoint, handler: Handler, threaded: bool) -> None:
        self.endpoint = endpoint
        self.handler = handler
        self.threaded = threaded

    def runs_inline(self, state: ServerState, others: int) -> bool:
        """Whether the handler runs on the event loop rather than the handlers' threads, with
        ``others`` requests of this worker under way beside this one (see :func:`rpc`)."""
        return not self.threaded and (state.inline_ok or (state.inline_when_alone and others == 0))

    def answer_post(self, state: ServerState, content_type: str | None, body: bytes) -> bytes:
        """The JSON answer to a POST of ``body`` (at a path without parameters), the handler
        run here: what ``__call__`` does for one, for the server's protocol to answer plain
        requests itself (``fast_rpc``). Errors are raised, as from ``__call__``."""
        check_content_type(content_type)
        fields = decode(self.endpoint, parse_body(body))
        return jsonio.dumps(self.handler(state, fields))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.endpoint
        state: ServerState = scope["app"].state.tracklet
        method = scope["method"]
        query = scope.get("query_string", b"")
        if method == "GET" or method == "HEAD":
            raw = parse_query(endpoint, parse_qsl(query.decode("latin-1"), keep_blank_values=True))
        else:
            content_type = content_length = None
            for name, value in scope["headers"]:
                if name == b"content-type":
                    content_type = value.decode("latin-1")
                elif name == b"content-length":
                    content_length = value.decode("latin-1")
            if method in ("POST", "PUT"):
                check_content_type(content_type)
            body = await receive_body(receive, state.settings.max_request_bytes, content_length)
            # The auth gate may have parsed it already (to find the resource): not twice.
            cached = scope.get("tracklet.json")
            raw = cached if cached is not None else parse_body(body)
            if not raw and method == "DELETE" and query:
                raw = parse_query(endpoint, parse_qsl(query.decode("latin-1")))
        fields = decode(endpoint, raw)
        for name, value in scope.get("path_params", {}).items():
            fields.setdefault(name, value)  # the body wins where both carry it (trap 10)
        active: ActiveRequests | None = scope.get(ACTIVE_KEY)  # counts this one too
        if self.runs_inline(state, 0 if active is None else active.count - 1):
            result = self.handler(state, fields)
        else:
            result = await handler_threads.run(self.handler, state, fields)
        payload = jsonio.dumps(result)
        await send({"type": "http.response.start", "status": 200, "headers": json_headers(payload)})
        await send({"type": "http.response.body", "body": payload})


def json_headers(payload: bytes) -> list[tuple[bytes, bytes]]:
    """The headers of a JSON answer carrying ``payload``."""
    return [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]


async def receive_body(receive: Receive, limit: int, declared: str | None = None) -> bytes:
    """The whole request body; PayloadTooLarge past ``limit`` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(limit)
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def rpc(endpoint: Endpoint, handler: Handler, *, threaded: bool = True) -> list[Route]:
    """Routes serving ``handler`` at every path of ``endpoint``.

    Args:
        endpoint: The endpoint table entry.
        handler: Takes the server state and the decoded fields, returns the response object.
        threaded: Run the handler on the handlers' threads (``handler_threads``). Single-row
            reads and writes and metric batches run on the event loop instead. On SQLite
            always: they take tens of microseconds, less than the hop to a thread and back. On
            PostgreSQL (about a millisecond) when the request is the only one its worker has
            under way: then the hop buys no overlap and costs more than itself (the handler
            thread and the event loop contending for the GIL): 3 servers, 4 clients of
            1,000-point log-batches on two cores, ~20% fewer servers' CPU a request. With a
            search or a stream under way they take the threads, so that the loop keeps
            serving it (inline writes doubled the search latency of issue 17's bench).
            Searches, histories and other calls whose cost grows with the data keep to the
            threads, and so does everything when the backend is another server.
    """
    app = RpcApp(endpoint, handler, threaded)
    return [
        Route(path, app, methods=list(endpoint.methods), name=f"{endpoint.name}:{path}")
        for path in endpoint.route_paths()
    ]
