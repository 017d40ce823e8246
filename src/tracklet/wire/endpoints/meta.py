"""Server metadata RPCs (spec §1.5)."""

from __future__ import annotations

from tracklet.wire.endpoints.base import Endpoint

SERVER_INFO = Endpoint("serverInfo", ("GET",), "/mlflow/server-info", major=3)

ENDPOINTS: tuple[Endpoint, ...] = (SERVER_INFO,)

__all__ = ["SERVER_INFO"]
