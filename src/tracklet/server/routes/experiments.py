"""Experiments: create, read, search, rename, delete/restore, tags (spec §2.2)."""

from __future__ import annotations

from typing import Any

from tracklet.entities import ExperimentTag, ViewType
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.server.artifact_files import require_allowed_location
from tracklet.server.rpc import ServerState, rpc
from tracklet.wire import endpoints as ep
from tracklet.wire.codec import experiment_to_json

Fields = dict[str, Any]


def create_experiment(state: ServerState, req: Fields) -> Fields:
    location = req.get("artifact_location") or None
    if location is not None:
        require_allowed_location(location, state.settings.local_artifact_roots())
    experiment_id = state.store.create_experiment(req["name"], location, req.get("tags", []))
    return {"experiment_id": experiment_id}


def get_experiment(state: ServerState, req: Fields) -> Fields:
    return {"experiment": experiment_to_json(state.store.get_experiment(req["experiment_id"]))}


def get_experiment_by_name(state: ServerState, req: Fields) -> Fields:
    name = req["experiment_name"]
    experiment = state.store.get_experiment_by_name(name)
    if experiment is None:
        # The client turns exactly this code into None (set_experiment relies on it).
        raise MlflowException(
            f"Could not find experiment with name '{name}'", RESOURCE_DOES_NOT_EXIST
        )
    return {"experiment": experiment_to_json(experiment)}


def search_experiments(state: ServerState, req: Fields) -> Fields:
    page = state.store.search_experiments(
        view_type=req.get("view_type", ViewType.ACTIVE_ONLY),
        max_results=req.get("max_results", 0),  # absent is a 400, as in MLflow's SQL store
        filter_string=req.get("filter") or None,
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    out: Fields = {}
    if page:
        out["experiments"] = [experiment_to_json(e) for e in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def update_experiment(state: ServerState, req: Fields) -> Fields:
    state.store.rename_experiment(req["experiment_id"], req["new_name"])
    return {}


def delete_experiment(state: ServerState, req: Fields) -> Fields:
    state.store.delete_experiment(req["experiment_id"])
    return {}


def restore_experiment(state: ServerState, req: Fields) -> Fields:
    state.store.restore_experiment(req["experiment_id"])
    return {}


def set_experiment_tag(state: ServerState, req: Fields) -> Fields:
    state.store.set_experiment_tag(
        req["experiment_id"], ExperimentTag(req["key"], req.get("value", ""))
    )
    return {}


def delete_experiment_tag(state: ServerState, req: Fields) -> Fields:
    state.store.delete_experiment_tag(req["experiment_id"], req["key"])
    return {}


routes = [
    *rpc(ep.CREATE_EXPERIMENT, create_experiment, threaded=False),
    *rpc(ep.GET_EXPERIMENT, get_experiment, threaded=False),
    *rpc(ep.GET_EXPERIMENT_BY_NAME, get_experiment_by_name, threaded=False),
    *rpc(ep.SEARCH_EXPERIMENTS, search_experiments),
    *rpc(ep.UPDATE_EXPERIMENT, update_experiment, threaded=False),
    *rpc(ep.DELETE_EXPERIMENT, delete_experiment, threaded=False),
    *rpc(ep.RESTORE_EXPERIMENT, restore_experiment, threaded=False),
    *rpc(ep.SET_EXPERIMENT_TAG, set_experiment_tag, threaded=False),
    *rpc(ep.DELETE_EXPERIMENT_TAG, delete_experiment_tag, threaded=False),
]
