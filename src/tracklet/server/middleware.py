"""The server's one ASGI middleware: Host/Origin checks, security headers, one log line per
request, and a logged JSON 500 for anything unexpected (never a traceback to the client).

Kept as a single pure-ASGI layer because every layer costs time on every request.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tracklet.exceptions import INTERNAL_ERROR, MlflowException
from tracklet.server.access_log import access_log
from tracklet.server.errors import STORAGE_FULL_STATUS, storage_full, storage_full_body
from tracklet.server.router import DirectRpc
from tracklet.server.rpc import ACTIVE_KEY, ActiveRequests
from tracklet.server.security import (
    CORS_BLOCKED_MESSAGE,
    DUPLICATE_HOST_MESSAGE,
    EXEMPT_PATHS,
    INVALID_HOST_MESSAGE,
    STATE_CHANGING_METHODS,
    HostPolicy,
    is_api_path,
)
from tracklet.wire.errors import error_body

logger = logging.getLogger("tracklet.server")
# Request headers that take a request off the protocol's direct path (``plain_request``).
_NOT_PLAIN = frozenset(
    {
        b"origin",
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"expect",
        b"upgrade",
    }
)


async def _plain(send: Send, status: int, text: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text.encode()})


class ServerMiddleware:
    """Wraps the router; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        policy: HostPolicy | None,
        x_frame_options: str | None,
        static_prefix: str = "",
        direct: DirectRpc | None = None,
        buffered_log: bool = False,
    ) -> None:
        self.app = app
        self.access = access_log(logger, (__file__, _LOG_LINE, "log_request"), buffered_log)
        self.direct = direct
        self.active = ActiveRequests()
        self.policy = policy
        self.prefix = static_prefix.rstrip("/")
        headers = [(b"x-content-type-options", b"nosniff")]
        if policy is not None and x_frame_options and x_frame_options.upper() != "NONE":
            headers.append((b"x-frame-options", x_frame_options.upper().encode()))
        self.extra_headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        active = self.active
        active.count += 1
        scope[ACTIVE_KEY] = active
        try:
            await self._serve(scope, receive, send)
        finally:
            active.count -= 1

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        if self.prefix:
            # --static-prefix: every route lives under the prefix, /health and /version too.
            if not path.startswith(self.prefix + "/"):
                await _plain(send, 404, "Not Found")
                self.log_request(scope, 404, start)
                return
            path = path[len(self.prefix) :]
            scope = {**scope, "path": path, "root_path": scope.get("root_path", "") + self.prefix}
        status = 0
        origin = ""
        host: str | None = None
        for name, value in scope["headers"]:
            if name == b"host":
                if host is not None:
                    # Which one a proxy checked and which one we would use may differ.
                    await _plain(send, 400, DUPLICATE_HOST_MESSAGE)
                    self.log_request(scope, 400, start)
                    return
                host = value.decode("latin-1")
            elif name == b"origin":
                origin = value.decode("latin-1")
        policy = self.policy
        if policy is None:
            origin = ""  # no policy configured: no CORS headers for anyone
        else:
            if path not in EXEMPT_PATHS and not policy.host_allowed(host or ""):
                logger.warning("Rejected request with invalid Host header: %r", host)
                await _plain(send, 403, INVALID_HOST_MESSAGE)
                self.log_request(scope, 403, start)
                return
            # The UI's own calls: an Origin naming this very scheme://Host (a Host the check
            # above allowed, so DNS rebinding cannot forge it) is the same origin.
            same_origin = origin == f"{scope.get('scheme', 'http')}://{host}"
            if origin and not same_origin and not policy.origin_allowed(origin):
                if method in STATE_CHANGING_METHODS and is_api_path(path):
                    logger.warning("Blocked cross-origin request from %r", origin)
                    await _plain(send, 403, CORS_BLOCKED_MESSAGE)
                    self.log_request(scope, 403, start)
                    return
                # A foreign origin may read nothing, on any path (artifacts, /health, 404s):
                # no CORS headers for it.
                origin = ""
            if origin and method == "OPTIONS" and is_api_path(path):
                await self._preflight(send, origin)
                self.log_request(scope, 204, start)
                return
        extra = self.extra_headers
        if origin:
            extra = [*extra, *self._cors_headers(origin)]

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if extra:
                    message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        try:
            direct = self.direct
            rpc = None if direct is None else direct.find(path, method)
            if direct is None or rpc is None:
                await self.app(scope, receive, send_with_headers)
            else:
                await direct.call(rpc, scope, receive, send_with_headers, lambda: status != 0)
        except Exception as failure:
            code, body = self.failure(failure, method, path)
            if status:
                raise  # the response has begun; the connection is all we can end
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": code,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": body})
        self.log_request(scope, status, start)

    def failure(self, failure: Exception, method: str, path: str) -> tuple[int, bytes]:
        """Log an unexpected exception; the status and JSON body that answer it (507 when the
        disk or database is full, else 500: never a traceback to the client)."""
        if storage_full(failure):
            logger.error("Storage full serving %s %s: %s", method, path, failure)
            return STORAGE_FULL_STATUS, storage_full_body()
        logger.exception("Unexpected error serving %s %s", method, path, exc_info=failure)
        error = MlflowException("Internal server error; see the server log", INTERNAL_ERROR)
        return 500, error_body(error)

    def plain_request(self, headers: list[tuple[bytes, bytes]]) -> bool:
        """Whether a request with these headers passes every check here and gets nothing added
        to its answer but ``extra_headers``: one Host, which the policy allows; no Origin (no
        CORS work); nothing a proxy forwarded (which uvicorn's proxy-headers layer would apply);
        no Expect; no static prefix. The server's protocol answers such RPC requests itself
        (``fast_rpc``)."""
        if self.prefix:
            return False
        host: bytes | None = None
        for name, value in headers:
            if name == b"host":
                if host is not None:
                    return False
                host = value
            elif name in _NOT_PLAIN:
                return False
        if host is None:
            return False
        return self.policy is None or self.policy.host_allowed(host.decode("latin-1"))

    def _cors_headers(self, origin: str) -> list[tuple[bytes, bytes]]:
        """For an allowed origin. With ``--cors-allowed-origins '*'`` any page may read, but
        never with the visitor's credentials (as MLflow: a wildcard with credentials is a CORS
        violation); otherwise the origin itself, credentials allowed."""
        assert self.policy is not None
        if self.policy.any_origin:
            return [(b"access-control-allow-origin", b"*")]
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-credentials", b"true"),
            (b"vary", b"Origin"),
        ]

    async def _preflight(self, send: Send, origin: str) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    *self.extra_headers,
                    *self._cors_headers(origin),
                    (b"access-control-allow-methods", b"GET, POST, PUT, DELETE, OPTIONS, PATCH"),
                    (b"access-control-allow-headers", b"*"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    def log_request(self, scope: Scope, status: int, start: float) -> None:
        access = self.access
        if access.enabled():
            client: Any = scope.get("client")
            peer = f"{client[0]}:{client[1]}" if client else "-"
            query = scope.get("query_string", b"")
            target = scope["path"] + ("?" + query.decode("latin-1") if query else "")
            elapsed = (time.perf_counter() - start) * 1000
            access.write(f'{peer} "{scope["method"]} {target}" {status} {elapsed:.1f}ms')


_LOG_LINE = ServerMiddleware.log_request.__code__.co_firstlineno
