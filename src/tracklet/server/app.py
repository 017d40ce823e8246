"""``create_app``: the tracking server as a Starlette application.

One app per worker process. The store opens in the lifespan (or is handed in by tests), so each
worker has its own connections; routes come from the per-resource modules in ``routes/``.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from tracklet.server.access_log import flush_all
from tracklet.server.artifact_files import LocalArtifacts, ProxyArtifacts
from tracklet.server.errors import EXCEPTION_HANDLERS
from tracklet.server.middleware import ServerMiddleware
from tracklet.server.router import DirectRpc, IndexedRouter
from tracklet.server.routes import (
    artifacts,
    datasets,
    experiments,
    logged_model_artifacts,
    logged_models,
    meta,
    metrics,
    model_registry,
    otlp,
    runs,
    traces,
)
from tracklet.server.rpc import ServerState
from tracklet.server.security import HostPolicy
from tracklet.server.settings import ServerSettings, local_path
from tracklet.server.ui import routes as ui_routes
from tracklet.store.base import TrackingStore

logger = logging.getLogger("tracklet.server")


def all_routes() -> list[BaseRoute]:
    """Every route, resource by resource."""
    return [
        *meta.routes,
        *experiments.routes,
        *runs.routes,
        *metrics.routes,
        *datasets.routes,
        *logged_models.routes,
        *logged_model_artifacts.routes,
        *model_registry.routes,
        *artifacts.routes,
        *traces.routes,
        *otlp.routes,
        *ui_routes,
    ]


def open_store(settings: ServerSettings) -> TrackingStore:
    """The backend store, with the server's default artifact root for new experiments."""
    from tracklet.store.schemes import open_store as open_backend

    return open_backend(settings.backend_store_uri, settings.default_artifact_root)


def open_proxy(destination: str) -> ProxyArtifacts:
    """The proxy's storage for ``--artifacts-destination`` (a local path, ``file:``, ``s3:``)."""
    if destination.startswith("s3:"):
        from tracklet.server.artifact_s3 import S3Artifacts

        return S3Artifacts(destination)
    root = local_path(destination)
    os.makedirs(root, exist_ok=True)
    return LocalArtifacts(root)


def _preload_chart_modules() -> None:
    """Import the charts' numpy path now, when numpy is installed: the first chart a user opens
    would otherwise pay numpy's import (~90 ms) on its series request."""
    try:
        import tracklet.server.ui.series_arrays  # noqa: F401
    except ImportError:
        pass


def _state(
    settings: ServerSettings, store: TrackingStore, proxy: ProxyArtifacts | None
) -> ServerState:
    """What handlers see, with where the store's quick calls may run (``rpc.ServerState``)."""
    return ServerState(settings, store, proxy, store.is_local, store.quick_calls)


class TrackletApp(Starlette):
    """Starlette with ``ServerMiddleware`` outermost, where Starlette puts its
    ``ServerErrorMiddleware``: ours already answers anything unexpected (a logged JSON 500), so
    that layer only cost time on every request."""

    def build_middleware_stack(self) -> ASGIApp:
        handlers = {k: v for k, v in self.exception_handlers.items() if k not in (500, Exception)}
        app: ASGIApp = ExceptionMiddleware(self.router, handlers=handlers, debug=self.debug)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


def create_app(
    settings: ServerSettings,
    store: TrackingStore | None = None,
    freeze_gc: bool = False,
    buffered_log: bool = False,
) -> Starlette:
    """The server app for ``settings``.

    Args:
        settings: How the server was configured (``tracklet server`` flags).
        store: A store to serve instead of opening ``settings.backend_store_uri`` (tests).
        freeze_gc: Once started, move every object to the collector's permanent generation
            (``gc.freeze``): what ``tracklet server`` does in each server process.
        buffered_log: Write the request lines to the console in batches when the log goes to
            the console only (``tracklet server``; see ``access_log``).

    Returns:
        A Starlette application; its lifespan opens the store and closes it on shutdown.
    """
    proxy = open_proxy(settings.artifacts_destination) if settings.serve_artifacts else None

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned = store is None
        opened = open_store(settings) if store is None else store
        app.state.tracklet = _state(settings, opened, proxy)
        if freeze_gc:
            # On a thread of anyio's pool: its asyncio backend (~50 ms of imports) is loaded
            # now rather than by the first artifact request.
            await run_in_threadpool(_preload_chart_modules)
            # What the server has built by now (modules, the store, the routes) lives as long
            # as the process: out of the collector's sight, a full collection traverses only
            # what requests made since, about 1 ms instead of 45-137 ms (stalling whichever
            # request was running: the tail of search latency while clients write).
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            flush_all()
            if owned:
                opened.close()

    policy = None
    if not settings.disable_security_middleware:
        policy = HostPolicy(settings.effective_allowed_hosts(), settings.cors_allowed_origins)
    routes = all_routes()
    # With authentication on, every request goes through its gate (a middleware after ours):
    # no direct calls of the RPC endpoints from our middleware then.
    direct = None if settings.app_name is not None else DirectRpc(routes, EXCEPTION_HANDLERS)
    middleware = [
        Middleware(
            ServerMiddleware,
            policy,
            settings.x_frame_options,
            settings.static_prefix,
            direct,
            buffered_log,
        )
    ]
    auth = None
    if settings.app_name is not None:
        from tracklet.server.auth import enable

        auth, auth_middleware, auth_routes = enable(settings)
        middleware.append(auth_middleware)
        routes += auth_routes
    app = TrackletApp(middleware=middleware, exception_handlers=EXCEPTION_HANDLERS)
    app.router = IndexedRouter(routes, lifespan=lifespan)
    if auth is not None:
        app.state.tracklet_auth, app.state.tracklet_auth_default = auth
    if store is not None:
        # Usable without running the lifespan too (e.g. an ASGI transport that skips it).
        app.state.tracklet = _state(settings, store, proxy)
    return app
