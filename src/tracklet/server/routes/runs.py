"""Runs and their data: create, read, update, search, log metric/param/batch, tags, inputs and
outputs (spec §2.3)."""

from __future__ import annotations

import json
import time
from typing import Any

from tracklet import jsonio, validation
from tracklet.entities import Metric, Param, RunStatus, RunTag, ViewType
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import ServerState, rpc
from tracklet.wire import endpoints as ep
from tracklet.wire.codec import (
    metric_columns_from_json,
    metric_from_json,
    plain_metric_points,
    run_info_to_json,
    run_to_json,
)

Fields = dict[str, Any]
LOGGED_MODELS_TAG = "mlflow.log-model.history"


def create_run(state: ServerState, req: Fields) -> Fields:
    run = state.store.create_run(
        experiment_id=req.get("experiment_id") or "0",
        user_id=req.get("user_id", ""),
        start_time=req.get("start_time", int(time.time() * 1000)),
        tags=req.get("tags", []),
        run_name=req.get("run_name") or None,
    )
    return {"run": run_to_json(run)}


def get_run(state: ServerState, req: Fields) -> Fields:
    return {"run": run_to_json(state.store.get_run(req["run_id"]))}


def update_run(state: ServerState, req: Fields) -> Fields:
    status = req.get("status")
    info = state.store.update_run_info(
        req["run_id"],
        RunStatus.to_string(status) if status is not None else None,
        req.get("end_time"),
        req.get("run_name"),
    )
    return {"run_info": run_info_to_json(info)}


def delete_run(state: ServerState, req: Fields) -> Fields:
    state.store.delete_run(req["run_id"])
    return {}


def restore_run(state: ServerState, req: Fields) -> Fields:
    state.store.restore_run(req["run_id"])
    return {}


def search_runs(state: ServerState, req: Fields) -> Fields:
    page = state.store.search_runs(
        experiment_ids=req.get("experiment_ids", []),
        filter_string=req.get("filter", ""),
        run_view_type=req.get("run_view_type", ViewType.ACTIVE_ONLY),
        max_results=req.get("max_results", 1000),
        order_by=req.get("order_by") or None,
        page_token=req.get("page_token") or None,
    )
    out: Fields = {}
    if page:
        out["runs"] = [run_to_json(r) for r in page]
    if page.token:
        out["next_page_token"] = page.token
    return out


def log_metric(state: ServerState, req: Fields) -> Fields:
    run_id = req["run_id"]
    model_id = req.get("model_id") or None
    dataset_name = req.get("dataset_name") or None
    dataset_digest = req.get("dataset_digest") or None
    linked = model_id or dataset_name or dataset_digest
    metric = Metric(
        req["key"],
        req["value"],
        req["timestamp"],
        req.get("step", 0),
        dataset_name,
        dataset_digest,
        model_id,
        run_id if linked else None,
    )
    state.store.log_metric(run_id, metric)
    return {}


def log_param(state: ServerState, req: Fields) -> Fields:
    state.store.log_param(req["run_id"], Param(req["key"], req.get("value", "")))
    return {}


def set_tag(state: ServerState, req: Fields) -> Fields:
    state.store.set_tag(req["run_id"], RunTag(req["key"], req.get("value", "")))
    return {}


def delete_tag(state: ServerState, req: Fields) -> Fields:
    state.store.delete_tag(req["run_id"], req["key"])
    return {}


def log_batch(state: ServerState, req: Fields) -> Fields:
    raw_metrics: list[dict[str, Any]] = req.get("metrics", [])
    params: list[Param] = req.get("params", [])
    tags: list[RunTag] = req.get("tags", [])
    # One request is one batch: MLflow's per-request limits hold here (the client splits).
    validation.validate_batch_limits(len(raw_metrics), len(params), len(tags))
    run_id = req["run_id"]
    if raw_metrics and not params and not tags:
        # Metrics only (the common case): plain points go on as parallel columns, at C speed
        # (the store writes a wide batch as one row); else grouped into columns per key. One
        # transaction either way.
        points = plain_metric_points(raw_metrics)
        if points is not None:
            keys = points[0]
            if not validation.known_valid_keys.issuperset(keys):
                for key in keys:
                    validation.validate_key(key, "metrics.key")
            state.store.log_metric_points(run_id, points)
            return {}
        series = metric_columns_from_json(raw_metrics)
        if series is not None:
            for key in series:
                validation.validate_key(key, "metrics.key")
            state.store.log_metric_columns(run_id, series)
            return {}
    metrics = [metric_from_json(m, f"metrics[{i}]") for i, m in enumerate(raw_metrics)]
    if metrics or params or tags:
        state.store.log_batch(run_id, metrics, params, tags)
    return {}


def log_inputs(state: ServerState, req: Fields) -> Fields:
    state.store.log_inputs(req["run_id"], req.get("datasets", []), req.get("models", []))
    return {}


def log_outputs(state: ServerState, req: Fields) -> Fields:
    state.store.log_outputs(req["run_id"], req["models"])
    return {}


def log_model(state: ServerState, req: Fields) -> Fields:
    """Legacy model metadata: appended to the run's ``mlflow.log-model.history`` tag."""
    try:
        model = jsonio.loads(req["model_json"])
        jsonio.check_value(model)  # stored as a tag: no surrogates, no 1,000-deep nesting
    except ValueError:
        raise MlflowException(
            f"Malformed model info. \n {req['model_json']} \n is not a valid JSON.",
            INVALID_PARAMETER_VALUE,
        ) from None
    if not isinstance(model, dict):
        raise MlflowException("Model json must be a JSON object", INVALID_PARAMETER_VALUE)
    absent = {"artifact_path", "flavors", "utc_time_created", "run_id"} - set(model)
    if absent:
        raise MlflowException(
            f"Model json is missing mandatory fields: {absent}", INVALID_PARAMETER_VALUE
        )
    run = state.store.get_run(req["run_id"])
    try:
        history = json.loads(run.data.tags.get(LOGGED_MODELS_TAG, "[]"))
    except ValueError:
        history = []
    history = [*history, model] if isinstance(history, list) else [model]
    state.store.set_tag(req["run_id"], RunTag(LOGGED_MODELS_TAG, json.dumps(history)))
    return {}


routes = [
    *rpc(ep.CREATE_RUN, create_run, threaded=False),
    *rpc(ep.GET_RUN, get_run, threaded=False),
    *rpc(ep.UPDATE_RUN, update_run, threaded=False),
    *rpc(ep.DELETE_RUN, delete_run, threaded=False),
    *rpc(ep.RESTORE_RUN, restore_run, threaded=False),
    *rpc(ep.SEARCH_RUNS, search_runs),
    *rpc(ep.LOG_METRIC, log_metric, threaded=False),
    *rpc(ep.LOG_PARAM, log_param, threaded=False),
    *rpc(ep.SET_TAG, set_tag, threaded=False),
    *rpc(ep.DELETE_TAG, delete_tag, threaded=False),
    *rpc(ep.LOG_BATCH, log_batch, threaded=False),
    *rpc(ep.LOG_INPUTS, log_inputs, threaded=False),
    *rpc(ep.LOG_OUTPUTS, log_outputs, threaded=False),
    *rpc(ep.LOG_MODEL, log_model, threaded=False),
]
