"""Liveness and capabilities: /health, /version and server-info (spec §1.5)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracklet.server.rpc import ServerState, rpc
from tracklet.server.settings import MLFLOW_COMPATIBLE_VERSION
from tracklet.wire import endpoints as ep


async def health(request: Request) -> Response:
    return PlainTextResponse("OK")


async def version(request: Request) -> Response:
    return PlainTextResponse(MLFLOW_COMPATIBLE_VERSION)


def server_info(state: ServerState, req: dict[str, Any]) -> dict[str, Any]:
    # Multipart uploads and presigned downloads are offered when the proxy stores in object
    # storage, as MLflow's server does; on a local destination clients keep to plain PUT/GET.
    multipart = state.settings.presigned_urls and bool(
        getattr(state.proxy, "supports_multipart", False)
    )
    return {
        "store_type": "SqlStore",
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": multipart,
        "multipart_downloads_enabled": multipart,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }


routes = [
    Route("/health", health, methods=["GET"]),
    Route("/version", version, methods=["GET"]),
    *rpc(ep.SERVER_INFO, server_info, threaded=False),
]
