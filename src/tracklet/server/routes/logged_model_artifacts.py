"""A logged model's files over HTTP, as MLflow's server serves them to its UI and clients:
``GET .../mlflow/logged-models/{model_id}/artifacts/directories`` lists a directory and
``GET /ajax-api/2.0/mlflow/logged-models/{model_id}/artifacts/files`` downloads one file.

Paths go through the proxy's safe join (:mod:`tracklet.server.artifact_files`), so a traversal
attempt answers MLflow's ``Invalid path``.
"""

from __future__ import annotations

import posixpath
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.exceptions import BAD_REQUEST, MlflowException
from tracklet.server.artifact_files import run_artifact_location
from tracklet.server.rpc import ServerState, json_response, state_of

_PREFIX = "/mlflow/logged-models/{model_id}/artifacts"


def _listing(state: ServerState, model_id: str, relative: str) -> dict[str, Any]:
    root_uri = state.store.get_logged_model(model_id).artifact_location
    root, base = run_artifact_location(root_uri, state.proxy)
    root.resolve(relative)  # refuse an unsafe path before touching anything
    files = root.list(posixpath.join(base, relative) if base else relative)
    out: dict[str, Any] = {"root_uri": root_uri}
    if files:
        out["files"] = [
            {**f, "path": posixpath.join(relative, f["path"]) if relative else f["path"]}
            for f in files
        ]
    return out


async def list_directory(request: Request) -> Response:
    """The entries of ``artifact_directory_path`` (the root if absent), MLflow's JSON."""
    relative = request.query_params.get("artifact_directory_path") or ""
    state = state_of(request)
    model_id = request.path_params["model_id"]
    return json_response(await run_in_threadpool(_listing, state, model_id, relative))


def _file(state: ServerState, model_id: str, path: str, range_header: str | None) -> Response:
    root, base = run_artifact_location(
        state.store.get_logged_model(model_id).artifact_location, state.proxy
    )
    root.resolve(path)
    return root.download_response(posixpath.join(base, path) if base else path, path, range_header)


async def download_file(request: Request) -> Response:
    """One file, ``artifact_file_path``, with MLflow's download headers."""
    path = request.query_params.get("artifact_file_path")
    if not path:
        raise MlflowException(
            'Request must include the "artifact_file_path" query parameter.', BAD_REQUEST
        )
    state = state_of(request)
    model_id = request.path_params["model_id"]
    return await run_in_threadpool(_file, state, model_id, path, request.headers.get("range"))


routes = [
    Route(f"/api/2.0{_PREFIX}/directories", list_directory, methods=["GET"]),
    Route(f"/ajax-api/2.0{_PREFIX}/directories", list_directory, methods=["GET"]),
    Route(f"/ajax-api/2.0{_PREFIX}/files", download_file, methods=["GET"]),
]
