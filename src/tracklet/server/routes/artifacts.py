"""Artifacts: the ``mlflow-artifacts`` proxy (upload, download, list, delete; spec §2.7) and the
tracking service's run artifact listing (spec §2.5).

Uploads and downloads stream in chunks, so a large file never sits whole in memory. Every path a
client sends goes through ``safe_join`` (in :mod:`tracklet.server.artifact_files`).
"""

from __future__ import annotations

import posixpath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracklet.exceptions import NOT_IMPLEMENTED, MlflowException
from tracklet.server.artifact_files import (
    LocalArtifacts,
    UploadTooLarge,
    run_artifact_location,
)
from tracklet.server.downloads import send_file
from tracklet.server.rpc import ServerState, json_response, rpc, state_of
from tracklet.wire import endpoints as ep

Fields = dict[str, Any]
_PROXY_PREFIXES = ("/api/2.0", "/ajax-api/2.0")


def _proxy(request: Request) -> LocalArtifacts | None:
    return state_of(request).proxy


def _disabled(request: Request) -> Response:
    return PlainTextResponse(
        f"Endpoint: {request.url.path} disabled due to the tracklet server running with "
        "`--no-serve-artifacts`. To enable artifacts server functionality, run "
        "`tracklet server` with `--serve-artifacts`",
        status_code=503,
    )


async def list_proxied(request: Request) -> Response:
    proxy = _proxy(request)
    if proxy is None:
        return _disabled(request)
    path = request.query_params.get("path", "")
    files = await run_in_threadpool(proxy.list, path)
    return json_response({"files": files} if files else {})


async def download(request: Request) -> Response:
    proxy = _proxy(request)
    if proxy is None:
        return _disabled(request)
    path = request.path_params["artifact_path"]
    return send_file(proxy.file_for_download(path), path)


async def upload(request: Request) -> Response:
    proxy = _proxy(request)
    if proxy is None:
        return _disabled(request)
    limit = state_of(request).settings.max_artifact_bytes
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise UploadTooLarge(limit)
    await proxy.upload(request.path_params["artifact_path"], request.stream(), limit)
    return json_response({})


async def delete(request: Request) -> Response:
    proxy = _proxy(request)
    if proxy is None:
        return _disabled(request)
    await run_in_threadpool(proxy.delete, request.path_params["artifact_path"])
    return json_response({})


async def not_supported(request: Request) -> Response:
    if _proxy(request) is None:
        return _disabled(request)
    raise MlflowException(
        "Multipart upload is not supported for the current artifact repository",
        NOT_IMPLEMENTED,
    )


async def presigned_not_supported(request: Request) -> Response:
    if _proxy(request) is None:
        return _disabled(request)
    raise MlflowException(
        "Presigned URLs are not supported for the current artifact repository", NOT_IMPLEMENTED
    )


def list_run_artifacts(state: ServerState, req: Fields) -> Fields:
    """GET mlflow/artifacts/list: paths relative to the run's artifact root."""
    run = state.store.get_run(req["run_id"])
    root_uri = run.info.artifact_uri or ""
    relative = req.get("path") or ""
    root, base = run_artifact_location(root_uri, state.proxy)
    root.resolve(relative)  # refuse an unsafe path before touching anything
    files = root.list(posixpath.join(base, relative) if base else relative)
    out: Fields = {"root_uri": root_uri}
    if files and not (
        len(files) == 1
        and not files[0]["is_dir"]
        and relative
        and posixpath.basename(relative) == files[0]["path"]
    ):
        out["files"] = [
            {**f, "path": posixpath.join(relative, f["path"]) if relative else f["path"]}
            for f in files
        ]
    return out


async def get_artifact(request: Request) -> Response:
    """The UI's run artifact download: /get-artifact?run_id=...&path=..."""
    state = state_of(request)
    run_id = request.query_params.get("run_id") or request.query_params.get("run_uuid") or ""
    path = request.query_params.get("path", "")
    run = await run_in_threadpool(state.store.get_run, run_id)
    root, base = run_artifact_location(run.info.artifact_uri or "", state.proxy)
    root.resolve(path)
    return send_file(root.file_for_download(posixpath.join(base, path) if base else path), path)


def _presigned_rpc(state: ServerState, req: Fields) -> Fields:
    raise MlflowException(
        "Presigned URLs are not supported for this server's artifact storage", NOT_IMPLEMENTED
    )


def _proxy_routes() -> list[Route]:
    routes: list[Route] = []
    for prefix in _PROXY_PREFIXES:
        artifacts = f"{prefix}{ep.ARTIFACTS_PREFIX}"
        routes += [
            Route(artifacts, list_proxied, methods=["GET"]),
            Route(f"{artifacts}/{{artifact_path:path}}", download, methods=["GET"]),
            Route(f"{artifacts}/{{artifact_path:path}}", upload, methods=["PUT"]),
            Route(f"{artifacts}/{{artifact_path:path}}", delete, methods=["DELETE"]),
            Route(
                f"{prefix}{ep.MPU_CREATE_PREFIX}/{{artifact_path:path}}",
                not_supported,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.MPU_COMPLETE_PREFIX}/{{artifact_path:path}}",
                not_supported,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.MPU_ABORT_PREFIX}/{{artifact_path:path}}",
                not_supported,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.PRESIGNED_PREFIX}/{{artifact_path:path}}",
                presigned_not_supported,
                methods=["GET"],
            ),
        ]
    return routes


routes = [
    *rpc(ep.LIST_ARTIFACTS, list_run_artifacts),
    *rpc(ep.CREATE_PRESIGNED_UPLOAD_URL, _presigned_rpc, threaded=False),
    *rpc(ep.CREATE_PRESIGNED_DOWNLOAD_URL, _presigned_rpc, threaded=False),
    Route("/get-artifact", get_artifact, methods=["GET"]),
    *_proxy_routes(),
]
