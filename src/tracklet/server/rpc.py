"""Turning a handler ``(state, fields) -> dict`` into Starlette routes for one endpoint.

The wrapper does the protocol work once for every RPC: the Content-Type check on POST/PUT, the
body size limit, decoding the JSON body or query string with the endpoint's field list, running
the handler (on the thread pool, since stores block), and encoding the JSON response. Errors are
raised as :class:`MlflowException` and rendered by the one handler in :mod:`.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.artifact_files import LocalArtifacts
from tracklet.server.settings import ServerSettings
from tracklet.store.base import TrackingStore
from tracklet.wire import jsonio
from tracklet.wire.decode import decode, parse_body, parse_query
from tracklet.wire.endpoints import Endpoint

JSON = "application/json"


@dataclass
class ServerState:
    """What handlers see: the settings, this worker's store and the artifact proxy's root."""

    settings: ServerSettings
    store: TrackingStore
    proxy: LocalArtifacts | None = None


Handler = Callable[[ServerState, dict[str, Any]], dict[str, Any]]


class PayloadTooLarge(Exception):
    """A request body over the configured limit (answered with 413)."""

    def __init__(self, limit: int, what: str = "Request body") -> None:
        super().__init__(f"{what} exceeds the server's limit of {limit} bytes")
        self.limit = limit


def state_of(request: Request) -> ServerState:
    state: ServerState = request.app.state.tracklet
    return state


def check_json_content_type(request: Request) -> None:
    """MLflow requires ``Content-Type: application/json`` on POST and PUT (spec §1.2)."""
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise MlflowException(
            "Bad Request. Content-Type header is missing.", INVALID_PARAMETER_VALUE
        )
    if content_type.split(";", 1)[0].strip().lower() != JSON:
        raise MlflowException(
            f"Bad Request. Content-Type must be one of ['{JSON}'].", INVALID_PARAMETER_VALUE
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (413) more than ``limit`` bytes before reading them all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def request_fields(request: Request, endpoint: Endpoint, limit: int) -> dict[str, Any]:
    """The endpoint's decoded fields from a query string (GET) or a JSON body (others)."""
    method = request.method
    if method == "GET":
        raw = parse_query(endpoint, request.query_params.multi_items())
    else:
        if method in ("POST", "PUT"):
            check_json_content_type(request)
        raw = parse_body(await read_body(request, limit))
        if not raw and method == "DELETE" and request.query_params:
            raw = parse_query(endpoint, request.query_params.multi_items())
    return decode(endpoint, raw)


def json_response(body: dict[str, Any], status: int = 200) -> Response:
    return Response(jsonio.dumps(body), status_code=status, media_type=JSON)


def rpc(endpoint: Endpoint, handler: Handler, *, threaded: bool = True) -> list[Route]:
    """Routes serving ``handler`` at every path of ``endpoint``.

    Args:
        endpoint: The endpoint table entry.
        handler: Takes the server state and the decoded fields, returns the response object.
        threaded: Run the handler on the thread pool. Single-row reads and writes run on the
            event loop instead: they take tens of microseconds, less than the hop to a thread
            and back, and a store serialises its writes anyway. Searches, histories and other
            calls whose cost grows with the data keep to the thread pool.
    """

    async def endpoint_view(request: Request) -> Response:
        state = state_of(request)
        fields = await request_fields(request, endpoint, state.settings.max_request_bytes)
        for name, value in request.path_params.items():
            fields.setdefault(name, value)  # the body wins where both carry it (trap 10)
        if threaded:
            body = await run_in_threadpool(handler, state, fields)
        else:
            body = handler(state, fields)
        return json_response(body)

    endpoint_view.__name__ = endpoint.name
    return [
        Route(path, endpoint_view, methods=list(endpoint.methods), name=f"{endpoint.name}:{path}")
        for path in endpoint.route_paths()
    ]
