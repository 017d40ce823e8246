"""Logged models: create, read, finalize, delete, tags, params, search (spec §2.6).

Model ids travel in the path (``/mlflow/logged-models/{model_id}``), except that finalize reads
``model_id`` from its body, as MLflow's server does (spec trap 10).
"""

from __future__ import annotations

from typing import Any

from tracklet.entities.logged_model import LoggedModelStatus
from tracklet.server.rpc import ServerState, rpc
from tracklet.wire import endpoints as ep
from tracklet.wire.logged_models import logged_model_to_json

Fields = dict[str, Any]
_STATUS_BY_NUMBER = {number: name for name, number in ep.LOGGED_MODEL_STATUS}


def create_logged_model(state: ServerState, req: Fields) -> Fields:
    model = state.store.create_logged_model(
        req["experiment_id"],
        name=req.get("name") or None,
        source_run_id=req.get("source_run_id") or None,
        tags=req.get("tags", []),
        params=req.get("params", []),
        model_type=req.get("model_type") or None,
    )
    return {"model": logged_model_to_json(model)}


def get_logged_model(state: ServerState, req: Fields) -> Fields:
    return {"model": logged_model_to_json(state.store.get_logged_model(req["model_id"]))}


def finalize_logged_model(state: ServerState, req: Fields) -> Fields:
    status = LoggedModelStatus.from_any(_STATUS_BY_NUMBER[req["status"]])
    return {
        "model": logged_model_to_json(state.store.finalize_logged_model(req["model_id"], status))
    }


def delete_logged_model(state: ServerState, req: Fields) -> Fields:
    state.store.delete_logged_model(req["model_id"])
    return {}


def set_logged_model_tags(state: ServerState, req: Fields) -> Fields:
    state.store.set_logged_model_tags(req["model_id"], req.get("tags", []))
    return {}


def delete_logged_model_tag(state: ServerState, req: Fields) -> Fields:
    state.store.delete_logged_model_tag(req["model_id"], req["tag_key"])
    return {}


def log_logged_model_params(state: ServerState, req: Fields) -> Fields:
    state.store.log_logged_model_params(req["model_id"], req.get("params", []))
    return {}


def search_logged_models(state: ServerState, req: Fields) -> Fields:
    page = state.store.search_logged_models(
        req.get("experiment_ids", []),
        filter_string=req.get("filter") or None,
        datasets=req.get("datasets") or None,
        max_results=req.get("max_results", 50),  # the proto default over REST (spec §6.4)
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    out: Fields = {"models": [logged_model_to_json(m) for m in page]} if page else {}
    if page.token:
        out["next_page_token"] = page.token
    return out


routes = [
    *rpc(ep.SEARCH_LOGGED_MODELS, search_logged_models),
    *rpc(ep.CREATE_LOGGED_MODEL, create_logged_model),
    *rpc(ep.GET_LOGGED_MODEL, get_logged_model),
    *rpc(ep.FINALIZE_LOGGED_MODEL, finalize_logged_model),
    *rpc(ep.DELETE_LOGGED_MODEL, delete_logged_model),
    *rpc(ep.SET_LOGGED_MODEL_TAGS, set_logged_model_tags),
    *rpc(ep.DELETE_LOGGED_MODEL_TAG, delete_logged_model_tag),
    *rpc(ep.LOG_LOGGED_MODEL_PARAMS, log_logged_model_params),
]
