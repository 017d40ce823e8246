"""Plain RPC requests answered in the HTTP protocol's own callbacks, without an ASGI cycle.

A 100-key ``log-batch`` costs the server about 280 µs, and a tenth of that went to the ASGI
machinery around its handler: uvicorn's request cycle and the task that runs it, the receive
and send messages, the proxy-headers and Starlette layers. A request needs none of it when it is
a POST to a fixed-path RPC endpoint whose handler runs on the event loop (``RpcApp``), with a
declared body within the size limit, from a client that sends no Origin and nothing a proxy
forwarded, to a server without authentication or a static prefix (``ServerMiddleware``'s
``plain_request``), while no earlier request on the connection is unanswered. Such a request is
answered here once its body is complete, through the same code as the ASGI way: the handler
and its error rendering (``RpcApp.answer_post``, the app's exception handlers), the middleware's
headers, 500s and access-log line, and uvicorn's status lines, default headers and keep-alive
rules. Every other request takes uvicorn's way unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from typing import Any

import httptools
from starlette.requests import Request
from starlette.responses import Response
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from tracklet.server.middleware import ServerMiddleware
from tracklet.server.protocol import CoalescingHttpToolsProtocol
from tracklet.server.rpc import RpcApp, ServerState, json_headers

_CLOSE = b"connection: close\r\n"


class _Direct:
    """What a plain request needs of the app: its middleware and state."""

    __slots__ = ("middleware", "state")

    def __init__(self, middleware: ServerMiddleware, state: ServerState) -> None:
        self.middleware = middleware
        self.state = state


def _direct_of(app: Any) -> _Direct | None:
    """The server middleware (with its direct RPC routes) and state behind uvicorn's app, once
    the app has built its middleware (at its lifespan's start); None before, or if there is no
    direct routing (authentication on)."""
    for _ in range(8):  # uvicorn's wrappers, then the Starlette app
        stack = getattr(app, "middleware_stack", None)
        if isinstance(stack, ServerMiddleware):
            state = getattr(app.state, "tracklet", None)
            if stack.direct is None or not isinstance(state, ServerState):
                return None
            return _Direct(stack, state)
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


def _finished(awaitable: Awaitable[Response]) -> Response:
    """The result of an exception handler coroutine that never suspends (they build a response
    from the exception alone)."""
    coroutine: Any = awaitable
    try:
        coroutine.send(None)
    except StopIteration as done:
        response: Response = done.value
        return response
    coroutine.close()
    raise RuntimeError("an exception handler suspended; it cannot answer a direct request")


class FastRpcProtocol(CoalescingHttpToolsProtocol):
    """uvicorn's httptools protocol (head and body in one write) answering plain RPC requests
    itself; see the module docstring."""

    _direct: _Direct | None = None
    _rpc: RpcApp | None = None  # the endpoint of the request being read directly
    _body: list[bytes] | None = None

    def on_headers_complete(self) -> None:
        rpc = self._plain_rpc()
        if rpc is None:
            self._rpc = None
            super().on_headers_complete()
            return
        self._rpc = rpc
        self._body = []

    def on_body(self, body: bytes) -> None:
        if self._rpc is None:
            super().on_body(body)
        else:
            assert self._body is not None
            self._body.append(body)

    def on_message_complete(self) -> None:
        rpc = self._rpc
        if rpc is None:
            super().on_message_complete()
            return
        self._rpc = None
        body, self._body = self._body, None
        self._answer(rpc, b"".join(body or ()))

    def _plain_rpc(self) -> RpcApp | None:
        """The endpoint if this request (its head just parsed) is answered directly."""
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.limit_concurrency:
            return None  # an earlier request is unanswered: keep the order uvicorn keeps
        if self.parser.get_method() != b"POST" or self.root_path:
            return None
        direct = self._direct
        if direct is None:
            direct = self._direct = _direct_of(self.app)
            if direct is None:
                return None
        middleware, state = direct.middleware, direct.state
        url = httptools.parse_url(self.url)
        path = url.path.decode("ascii")
        assert middleware.direct is not None
        rpc = middleware.direct.find(path, "POST")
        # Not counted by the middleware: every request it counts is under way beside this one.
        if rpc is None or not rpc.runs_inline(state, middleware.active.count):
            return None
        if not middleware.plain_request(self.headers):
            return None
        length = next((value for name, value in self.headers if name == b"content-length"), None)
        if length is None or not length.isdigit() or int(length) > state.settings.max_request_bytes:
            return None  # a chunked or too large body: the ASGI way checks it as it arrives
        scope = self.scope
        scope["method"] = "POST"
        http_version = self.parser.get_http_version()
        if http_version != "1.1":
            scope["http_version"] = http_version
        scope["path"] = path
        scope["raw_path"] = path.encode("ascii")
        scope["query_string"] = url.query or b""  # unused by a POST, but logged
        return rpc

    def _answer(self, rpc: RpcApp, body: bytes) -> None:
        start = time.perf_counter()
        direct = self._direct
        assert direct is not None
        middleware = direct.middleware
        scope: Any = self.scope
        content_type = next(
            (value.decode("latin-1") for name, value in self.headers if name == b"content-type"),
            None,
        )
        try:
            payload = rpc.answer_post(direct.state, content_type, body)
            status, headers = 200, json_headers(payload)
        except Exception as error:
            handler = None if middleware.direct is None else middleware.direct.handler_for(error)
            try:
                if handler is None:
                    raise
                response = _finished(handler(Request(scope), error))
                status, headers, payload = (
                    response.status_code,
                    response.raw_headers,
                    bytes(response.body),
                )
            except Exception as failure:
                status, payload = middleware.failure(failure, "POST", scope["path"])
                headers = json_headers(payload)
            error.__traceback__ = None
        keep_alive = scope["http_version"] != "1.0" and self.parser.should_keep_alive()
        head = [STATUS_LINE[status]]
        for name, value in [
            *self.server_state.default_headers,
            *headers,
            *middleware.extra_headers,
        ]:
            head += (name, b": ", value, b"\r\n")
        if not keep_alive:
            head.append(_CLOSE)
        head += (b"\r\n", payload)
        transport: Any = self.transport  # the coalescing wrapper (connection_made)
        transport.write_response(b"".join(head))
        middleware.log_request(scope, status, start)
        if not keep_alive:
            self.transport.close()
        self.on_response_complete()
