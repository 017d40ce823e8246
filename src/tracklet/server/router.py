"""A Starlette router that finds fixed paths with one dict lookup.

Starlette's router tries every route's regular expression in turn; with ~100 routes that scan
costs more than a whole log-metric write. Routes without path parameters are indexed by path
(several per path when they differ by method); everything else, including 404s and 405s, falls
through to Starlette's own matching, so behaviour is unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

from tracklet.server.rpc import RpcApp


class IndexedRouter(Router):
    def __init__(self, routes: Sequence[BaseRoute], **kwargs: Any) -> None:
        super().__init__(list(routes), **kwargs)
        self._exact: dict[str, list[Route]] = {}
        for route in self.routes:
            if isinstance(route, Route) and not route.param_convertors:
                self._exact.setdefault(route.path, []).append(route)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self._exact.get(scope["path"], ()):
                match, child_scope = route.matches(scope)
                if match is Match.FULL:
                    scope.setdefault("router", self)
                    scope.update(child_scope)
                    await route.handle(scope, receive, send)
                    return
        await super().app(scope, receive, send)


HttpHandler = Callable[[Request, Exception], Awaitable[Response]]


@dataclass(frozen=True)
class DirectRoute:
    methods: frozenset[str]
    app: RpcApp


class DirectRpc:
    """The RPC endpoints at fixed paths, for the server middleware to call without the layers
    between it and them (Starlette's exception middleware, the router, the route): a third of
    the per-request Python outside the handler of a log-batch. Exceptions become responses
    through the same handlers, looked up as Starlette's exception middleware looks them up;
    anything else (a path with parameters, another method: a 405) takes the usual way."""

    def __init__(self, routes: Sequence[BaseRoute], handlers: Mapping[Any, HttpHandler]) -> None:
        self.routes: dict[str, DirectRoute] = {}
        for route in routes:
            if (
                isinstance(route, Route)
                and not route.param_convertors
                and isinstance(route.app, RpcApp)
                and route.methods
                and route.path not in self.routes
            ):
                self.routes[route.path] = DirectRoute(frozenset(route.methods), route.app)
        # Starlette's own handler for HTTPException (plain-text status), then the app's.
        self._handlers: dict[Any, HttpHandler] = {
            HTTPException: ExceptionMiddleware(_no_app).http_exception,
            **handlers,
        }

    def find(self, path: str, method: str) -> RpcApp | None:
        route = self.routes.get(path)
        if route is None or method not in route.methods:
            return None
        return route.app

    def handler_for(self, error: Exception) -> HttpHandler | None:
        for cls in type(error).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return handler
        return None

    async def call(
        self, app: RpcApp, scope: Scope, receive: Receive, send: Send, started: Callable[[], bool]
    ) -> None:
        """``app`` for this request; an exception with a handler answered by it (unless the
        response has begun: ``started()``), any other raised."""
        scope["endpoint"] = app
        scope["path_params"] = {}
        try:
            await app(scope, receive, send)
        except Exception as error:
            handler = self.handler_for(error)
            if handler is None:
                raise
            if started():
                raise RuntimeError(
                    "Caught handled exception, but response already started."
                ) from error
            response = await handler(Request(scope, receive), error)
            await response(scope, receive, send)
            error.__traceback__ = None


async def _no_app(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    raise AssertionError("never called")
