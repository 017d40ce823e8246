"""uvicorn's Config carrying tracklet's settings, so that spawned workers build the app too.

uvicorn spawns worker processes with a pickled Config and insists on an import string for the
app; this subclass keeps the settings on the config and builds the app from them in each worker.
"""

from __future__ import annotations

from typing import Any

import uvicorn

from tracklet.server.settings import ServerSettings

_HTTP_PROTOCOL: Any
try:
    from tracklet.server.fast_rpc import FastRpcProtocol as _HTTP_PROTOCOL
except ImportError:  # a uvicorn that moved its protocol classes: its own httptools protocol
    _HTTP_PROTOCOL = "httptools"


class TrackletUvicornConfig(uvicorn.Config):
    def __init__(self, settings: ServerSettings, **kwargs: Any) -> None:
        # The import string satisfies uvicorn's check for --workers; load() replaces it.
        # The http protocol: uvicorn's httptools one, writing each response in one segment and
        # answering plain RPC requests itself (fast_rpc).
        kwargs.setdefault("http", _HTTP_PROTOCOL)
        super().__init__("tracklet.server.app:create_app", factory=True, **kwargs)
        self.tracklet_settings = settings

    def load(self) -> None:
        settings = self.tracklet_settings

        def factory() -> Any:
            from tracklet.server.app import create_app

            return create_app(settings, freeze_gc=True, buffered_log=True)

        self.app = factory
        super().load()
