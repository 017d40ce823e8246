"""Artifacts: the ``mlflow-artifacts`` proxy (upload, download, list, delete; spec §2.7) and the
tracking service's run artifact listing (spec §2.5).

Uploads and downloads stream in chunks, so a large file never sits whole in memory. Every path a
client sends is checked by the proxy's storage (:mod:`tracklet.server.artifact_files`). MLflow's
multipart endpoints (``mpu/create|complete|abort``) and presigned downloads are served when the
destination is object storage (:mod:`tracklet.server.artifact_s3`), and answer MLflow's 501
otherwise.
"""

from __future__ import annotations

import posixpath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracklet import env, jsonio
from tracklet.exceptions import INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED, MlflowException
from tracklet.server.artifact_files import (
    ProxyArtifacts,
    UploadTooLarge,
    run_artifact_location,
)
from tracklet.server.artifact_s3 import S3Artifacts
from tracklet.server.rpc import ServerState, json_response, receive_body, rpc, state_of
from tracklet.wire import endpoints as ep

Fields = dict[str, Any]
_PROXY_PREFIXES = ("/api/2.0", "/ajax-api/2.0")


def _proxy(request: Request) -> ProxyArtifacts | None:
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
    return await run_in_threadpool(
        proxy.download_response, path, path, request.headers.get("range")
    )


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


def _multipart(request: Request) -> S3Artifacts:
    proxy = _proxy(request)
    if not isinstance(proxy, S3Artifacts) or not state_of(request).settings.presigned_urls:
        # MLflow's text: its client falls back to a plain upload when the message starts so.
        raise MlflowException(
            "Multipart upload is not supported for the current artifact repository",
            NOT_IMPLEMENTED,
        )
    return proxy


async def _mpu_body(request: Request, required: tuple[str, ...]) -> Fields:
    limit = state_of(request).settings.max_request_bytes
    raw = await receive_body(request.receive, limit, request.headers.get("content-length"))
    try:
        body = jsonio.loads(raw) if raw else {}
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise MlflowException("The request body must be a JSON object", INVALID_PARAMETER_VALUE)
    for name in required:
        if not isinstance(body.get(name), str) or not body[name]:
            raise MlflowException(
                f"Missing value for required parameter '{name}'", INVALID_PARAMETER_VALUE
            )
    return body


def _parts(body: Fields) -> list[tuple[int, str]]:
    parts = body.get("parts")
    if not isinstance(parts, list) or not parts:
        raise MlflowException(
            "Missing value for required parameter 'parts'", INVALID_PARAMETER_VALUE
        )
    out: list[tuple[int, str]] = []
    for part in parts:
        number = part.get("part_number") if isinstance(part, dict) else None
        etag = part.get("etag") if isinstance(part, dict) else None
        if not isinstance(number, int) or isinstance(number, bool) or not isinstance(etag, str):
            raise MlflowException(
                f"Invalid value {part!r} for parameter 'parts': each part needs an integer "
                "'part_number' and a string 'etag'",
                INVALID_PARAMETER_VALUE,
            )
        out.append((number, etag))
    return out


async def mpu_create(request: Request) -> Response:
    if _proxy(request) is None:
        return _disabled(request)
    proxy = _multipart(request)
    body = await _mpu_body(request, ("path",))
    num_parts = body.get("num_parts", 1)
    if isinstance(num_parts, str) and num_parts.isdigit():
        num_parts = int(num_parts)  # proto3 JSON may carry integers as strings
    if not isinstance(num_parts, int) or isinstance(num_parts, bool):
        raise MlflowException(
            f"Invalid value {num_parts!r} for parameter 'num_parts': it must be an integer",
            INVALID_PARAMETER_VALUE,
        )
    directory = request.path_params["artifact_path"]
    created = await run_in_threadpool(proxy.create_multipart, directory, body["path"], num_parts)
    return json_response(created)


async def mpu_complete(request: Request) -> Response:
    if _proxy(request) is None:
        return _disabled(request)
    proxy = _multipart(request)
    body = await _mpu_body(request, ("path", "upload_id"))
    limit = state_of(request).settings.max_artifact_bytes
    await run_in_threadpool(
        proxy.complete_multipart,
        request.path_params["artifact_path"],
        body["path"],
        body["upload_id"],
        _parts(body),
        limit,
    )
    return json_response({})


async def mpu_abort(request: Request) -> Response:
    if _proxy(request) is None:
        return _disabled(request)
    proxy = _multipart(request)
    body = await _mpu_body(request, ("path", "upload_id"))
    directory = request.path_params["artifact_path"]
    await run_in_threadpool(proxy.abort_multipart, directory, body["path"], body["upload_id"])
    return json_response({})


async def presigned_download(request: Request) -> Response:
    proxy = _proxy(request)
    if proxy is None:
        return _disabled(request)
    if not isinstance(proxy, S3Artifacts) or not state_of(request).settings.presigned_urls:
        raise MlflowException(
            "Multipart download is not supported for the current artifact repository",
            NOT_IMPLEMENTED,
        )
    expires = env.MLFLOW_PRESIGNED_DOWNLOAD_URL_TTL_SECONDS.get()
    path = request.path_params["artifact_path"]
    return json_response(await run_in_threadpool(proxy.presigned_download, path, expires))


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
    relative = posixpath.join(base, path) if base else path
    return await run_in_threadpool(
        root.download_response, relative, path, request.headers.get("range")
    )


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
                mpu_create,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.MPU_COMPLETE_PREFIX}/{{artifact_path:path}}",
                mpu_complete,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.MPU_ABORT_PREFIX}/{{artifact_path:path}}",
                mpu_abort,
                methods=["POST"],
            ),
            Route(
                f"{prefix}{ep.PRESIGNED_PREFIX}/{{artifact_path:path}}",
                presigned_download,
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
