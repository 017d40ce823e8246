"""The model registry (ModelRegistryService, spec §2.10) and the model-version artifact route.

Every RPC answers as MLflow 3.17's server does: the same JSON shapes and error codes
(RESOURCE_ALREADY_EXISTS for a taken name, RESOURCE_DOES_NOT_EXIST for a missing model or
version, INVALID_PARAMETER_VALUE for bad input). New versions' sources are checked first
(``model_version_source``).
"""

from __future__ import annotations

import posixpath
import urllib.parse
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tracklet.entities.model_registry import ModelVersionTag, RegisteredModelTag
from tracklet.exceptions import INVALID_PARAMETER_VALUE, NOT_IMPLEMENTED, MlflowException
from tracklet.server.artifact_files import run_artifact_location
from tracklet.server.model_version_source import check_source, resolve_source
from tracklet.server.rpc import ServerState, rpc, state_of
from tracklet.store.model_registry_base import (
    SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD,
    SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD,
    ModelRegistryStore,
)
from tracklet.store.models_uri import parse_models_uri
from tracklet.wire import endpoints as ep
from tracklet.wire.model_registry import model_version_to_json, registered_model_to_json

Fields = dict[str, Any]


def _registry(state: ServerState) -> ModelRegistryStore:
    store = state.store
    if not isinstance(store, ModelRegistryStore):
        raise MlflowException("This server's backend store has no model registry", NOT_IMPLEMENTED)
    return store


def _max_results(req: Fields, default: int, limit: int) -> int:
    value = int(req.get("max_results", default))
    if value > limit:
        raise MlflowException(
            f"Invalid value {value} for parameter 'max_results' supplied: It must be at most "
            f"{limit}",
            INVALID_PARAMETER_VALUE,
        )
    return value


# ---------------------------------------------------------------------- registered models


def create_registered_model(state: ServerState, req: Fields) -> Fields:
    model = _registry(state).create_registered_model(
        req["name"],
        req.get("tags", []),
        req.get("description") or None,
        req.get("deployment_job_id") or None,
    )
    return {"registered_model": registered_model_to_json(model)}


def rename_registered_model(state: ServerState, req: Fields) -> Fields:
    model = _registry(state).rename_registered_model(req["name"], req["new_name"])
    return {"registered_model": registered_model_to_json(model)}


def update_registered_model(state: ServerState, req: Fields) -> Fields:
    model = _registry(state).update_registered_model(
        req["name"], req.get("description"), req.get("deployment_job_id") or None
    )
    return {"registered_model": registered_model_to_json(model)}


def delete_registered_model(state: ServerState, req: Fields) -> Fields:
    _registry(state).delete_registered_model(req["name"])
    return {}


def get_registered_model(state: ServerState, req: Fields) -> Fields:
    model = _registry(state).get_registered_model(req["name"])
    return {"registered_model": registered_model_to_json(model)}


def search_registered_models(state: ServerState, req: Fields) -> Fields:
    page = _registry(state).search_registered_models(
        req.get("filter") or None,
        _max_results(req, 100, SEARCH_REGISTERED_MODEL_MAX_RESULTS_THRESHOLD),
        req.get("order_by") or None,
        req.get("page_token") or None,
    )
    out: Fields = {}
    if page:
        out["registered_models"] = [registered_model_to_json(m) for m in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def get_latest_versions(state: ServerState, req: Fields) -> Fields:
    versions = _registry(state).get_latest_versions(req["name"], req.get("stages") or None)
    return {"model_versions": [model_version_to_json(v) for v in versions]} if versions else {}


def set_registered_model_tag(state: ServerState, req: Fields) -> Fields:
    tag = RegisteredModelTag(req["key"], req.get("value") or "")
    _registry(state).set_registered_model_tag(req["name"], tag)
    return {}


def delete_registered_model_tag(state: ServerState, req: Fields) -> Fields:
    _registry(state).delete_registered_model_tag(req["name"], req["key"])
    return {}


# ---------------------------------------------------------------------- model versions


def create_model_version(state: ServerState, req: Fields) -> Fields:
    registry = _registry(state)
    source, run_id, model_id = resolve_source(
        registry, req["source"], req.get("run_id"), req.get("model_id")
    )
    check_source(state.store, source, run_id or None, model_id or None)
    tags: list[ModelVersionTag] = req.get("tags", [])
    version = registry.create_model_version(
        req["name"],
        source,
        run_id or None,
        tags,
        req.get("run_link") or None,
        req.get("description") or None,
        model_id or None,
    )
    return {"model_version": model_version_to_json(version)}


def update_model_version(state: ServerState, req: Fields) -> Fields:
    version = _registry(state).update_model_version(
        req["name"], req["version"], req.get("description")
    )
    return {"model_version": model_version_to_json(version)}


def transition_model_version_stage(state: ServerState, req: Fields) -> Fields:
    version = _registry(state).transition_model_version_stage(
        req["name"], req["version"], req["stage"], bool(req.get("archive_existing_versions"))
    )
    return {"model_version": model_version_to_json(version)}


def delete_model_version(state: ServerState, req: Fields) -> Fields:
    _registry(state).delete_model_version(req["name"], req["version"])
    return {}


def get_model_version(state: ServerState, req: Fields) -> Fields:
    version = _registry(state).get_model_version(req["name"], req["version"])
    return {"model_version": model_version_to_json(version)}


def get_model_version_download_uri(state: ServerState, req: Fields) -> Fields:
    uri = _registry(state).get_model_version_download_uri(req["name"], req["version"])
    return {"artifact_uri": uri}


def search_model_versions(state: ServerState, req: Fields) -> Fields:
    page = _registry(state).search_model_versions(
        req.get("filter") or None,
        _max_results(req, 200_000, SEARCH_MODEL_VERSION_MAX_RESULTS_THRESHOLD),
        req.get("order_by") or None,
        req.get("page_token") or None,
    )
    out: Fields = {}
    if page:
        out["model_versions"] = [model_version_to_json(v) for v in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def set_model_version_tag(state: ServerState, req: Fields) -> Fields:
    tag = ModelVersionTag(req["key"], req.get("value") or "")
    _registry(state).set_model_version_tag(req["name"], req["version"], tag)
    return {}


def delete_model_version_tag(state: ServerState, req: Fields) -> Fields:
    _registry(state).delete_model_version_tag(req["name"], req["version"], req["key"])
    return {}


def set_registered_model_alias(state: ServerState, req: Fields) -> Fields:
    _registry(state).set_registered_model_alias(req["name"], req["alias"], req["version"])
    return {}


def delete_registered_model_alias(state: ServerState, req: Fields) -> Fields:
    _registry(state).delete_registered_model_alias(req["name"], req["alias"])
    return {}


def get_model_version_by_alias(state: ServerState, req: Fields) -> Fields:
    version = _registry(state).get_model_version_by_alias(req["name"], req["alias"])
    return {"model_version": model_version_to_json(version)}


# ---------------------------------------------------------------------- artifact route


def _artifact_root(state: ServerState, uri: str, depth: int = 0) -> tuple[str, str]:
    """(root URI, path under it) of a version's download URI, following ``runs:/`` and
    ``models:/`` sources to the artifacts they name."""
    if depth > 4:
        raise MlflowException(f"Model source {uri!r} refers to itself", INVALID_PARAMETER_VALUE)
    if uri.startswith("runs:"):
        run_id, _, path = uri[len("runs:") :].lstrip("/").partition("/")
        return str(state.store.get_run(run_id).info.artifact_uri or ""), path
    if uri.startswith("models:"):
        parsed = parse_models_uri(uri)
        if parsed.model_id is not None:
            return state.store.get_logged_model(parsed.model_id).artifact_location, ""
        registry = _registry(state)
        source, _, _ = resolve_source(registry, uri, None, None)
        name, _, number = source[len("models:/") :].rpartition("/")
        return _artifact_root(
            state, registry.get_model_version_download_uri(name, number), depth + 1
        )
    return uri, ""


def _version_artifact(
    state: ServerState, name: str, version: str, path: str, range_header: str | None
) -> Response:
    uri = _registry(state).get_model_version_download_uri(name, version)
    root_uri, base = _artifact_root(state, uri)
    root, folder = run_artifact_location(root_uri, state.proxy)
    relative = posixpath.join(folder, base, path) if (folder or base) else path
    root.resolve(path)  # refuse an unsafe path before touching anything
    return root.download_response(relative, path, range_header)


async def get_model_version_artifact(request: Request) -> Response:
    """The UI's download of one file of a model version: ?name=&version=&path=."""
    state = state_of(request)
    query = request.query_params
    name, version = query.get("name") or "", query.get("version") or ""
    path = urllib.parse.unquote(query.get("path") or "")
    range_header = request.headers.get("range")
    return await run_in_threadpool(_version_artifact, state, name, version, path, range_header)


routes = [
    *rpc(ep.CREATE_REGISTERED_MODEL, create_registered_model),
    *rpc(ep.RENAME_REGISTERED_MODEL, rename_registered_model),
    *rpc(ep.UPDATE_REGISTERED_MODEL, update_registered_model),
    *rpc(ep.DELETE_REGISTERED_MODEL, delete_registered_model),
    *rpc(ep.GET_REGISTERED_MODEL, get_registered_model),
    *rpc(ep.SEARCH_REGISTERED_MODELS, search_registered_models),
    *rpc(ep.GET_LATEST_VERSIONS, get_latest_versions),
    *rpc(ep.SET_REGISTERED_MODEL_TAG, set_registered_model_tag),
    *rpc(ep.DELETE_REGISTERED_MODEL_TAG, delete_registered_model_tag),
    *rpc(ep.CREATE_MODEL_VERSION, create_model_version),
    *rpc(ep.UPDATE_MODEL_VERSION, update_model_version),
    *rpc(ep.TRANSITION_MODEL_VERSION_STAGE, transition_model_version_stage),
    *rpc(ep.DELETE_MODEL_VERSION, delete_model_version),
    *rpc(ep.GET_MODEL_VERSION, get_model_version),
    *rpc(ep.SEARCH_MODEL_VERSIONS, search_model_versions),
    *rpc(ep.GET_MODEL_VERSION_DOWNLOAD_URI, get_model_version_download_uri),
    *rpc(ep.SET_MODEL_VERSION_TAG, set_model_version_tag),
    *rpc(ep.DELETE_MODEL_VERSION_TAG, delete_model_version_tag),
    *rpc(ep.SET_REGISTERED_MODEL_ALIAS, set_registered_model_alias),
    *rpc(ep.DELETE_REGISTERED_MODEL_ALIAS, delete_registered_model_alias),
    *rpc(ep.GET_MODEL_VERSION_BY_ALIAS, get_model_version_by_alias),
    Route("/model-versions/get-artifact", get_model_version_artifact, methods=["GET"]),
]
