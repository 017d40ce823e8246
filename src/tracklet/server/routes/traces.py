"""Traces: the v3 RPCs of spec §2.8 (start, get, batch get, search, delete, tags, run links).

Spans arrive through OTLP (``routes/otlp.py``) and are served back here as OpenTelemetry spans
inside v3 ``Trace`` messages; ``traces/get`` is an exact path, matched before
``traces/{trace_id}`` (spec trap 15).
"""

from __future__ import annotations

from typing import Any

from tracklet.entities import PagedList, TraceInfo
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.rpc import ServerState, rpc
from tracklet.store.trace_base import SEARCH_TRACES_MAX_RESULTS, trace_not_found
from tracklet.wire import endpoints as ep
from tracklet.wire.traces import (
    span_from_otel_json,
    trace_info_from_json,
    trace_info_to_json,
    trace_to_json,
)

Fields = dict[str, Any]


def _invalid(message: str) -> MlflowException:
    return MlflowException(message, INVALID_PARAMETER_VALUE)


def start_trace(state: ServerState, req: Fields) -> Fields:
    trace = req["trace"]
    if not isinstance(trace.get("trace_info"), dict):
        raise _invalid("Missing value for required parameter 'trace.trace_info'.")
    info = trace_info_from_json(trace["trace_info"])
    spans = [span_from_otel_json(s) for s in trace.get("spans") or []]
    if spans:
        if info.experiment_id is None:
            raise _invalid("trace_location must name an MLflow experiment.")
        state.store.log_spans(info.experiment_id, spans)
    stored = state.store.start_trace(info)
    return {"trace": {"trace_info": trace_info_to_json(stored)}}


def get_trace_info(state: ServerState, req: Fields) -> Fields:
    info = state.store.get_trace_info(req["trace_id"])
    return {"trace": {"trace_info": trace_info_to_json(info)}}


def get_trace(state: ServerState, req: Fields) -> Fields:
    found = state.store.batch_get_traces([req["trace_id"]])
    if not found:
        raise trace_not_found(req["trace_id"])
    return {"trace": trace_to_json(found[0].info, found[0].data.spans)}


def _allowed(req: Fields) -> set[str] | None:
    """The experiments the caller may read: None for all (no ``experiment_ids`` sent)."""
    if "experiment_ids" not in req:
        return None
    return {str(e) for e in req["experiment_ids"]}


def batch_get_traces(state: ServerState, req: Fields) -> Fields:
    allowed = _allowed(req)
    traces = state.store.batch_get_traces(req.get("trace_ids", []))
    return {
        "traces": [
            trace_to_json(t.info, t.data.spans)
            for t in traces
            if allowed is None or t.info.experiment_id in allowed
        ]
    }


def batch_get_trace_infos(state: ServerState, req: Fields) -> Fields:
    allowed = _allowed(req)
    traces = state.store.batch_get_traces(req.get("trace_ids", []))
    return {
        "trace_infos": [
            trace_info_to_json(t.info)
            for t in traces
            if allowed is None or t.info.experiment_id in allowed
        ]
    }


def _experiment_ids(locations: list[Any]) -> list[str]:
    ids = []
    for location in locations:
        experiment = location.get("mlflow_experiment") if isinstance(location, dict) else None
        if not isinstance(experiment, dict) or "experiment_id" not in experiment:
            raise _invalid(
                f"Unsupported trace location {location!r}: expected "
                '{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": ...}}.'
            )
        ids.append(str(experiment["experiment_id"]))
    return ids


def search_traces(state: ServerState, req: Fields) -> Fields:
    locations = _experiment_ids(req.get("locations", []))
    if not locations:
        raise _invalid("Missing value for required parameter 'locations'.")
    max_results = req.get("max_results", 100)
    if max_results > SEARCH_TRACES_MAX_RESULTS:
        raise _invalid(
            f"Invalid value {max_results} for parameter 'max_results' supplied. It must be at "
            f"most {SEARCH_TRACES_MAX_RESULTS}."
        )
    page: PagedList[TraceInfo] = state.store.search_traces(
        locations,
        req.get("filter") or None,
        max_results,
        req.get("order_by") or None,
        req.get("page_token") or None,
    )
    out: Fields = {"traces": [trace_info_to_json(info) for info in page]}
    if page.token:
        out["next_page_token"] = page.token
    return out


def delete_traces(state: ServerState, req: Fields) -> Fields:
    if not req.get("experiment_id"):
        raise _invalid("Missing value for required parameter 'experiment_id'.")
    deleted = state.store.delete_traces(
        req["experiment_id"],
        req.get("max_timestamp_millis"),
        req.get("max_traces"),
        req.get("request_ids") or None,
    )
    return {"traces_deleted": deleted}


def _trace_id(req: Fields) -> str:
    return str(req.get("trace_id") or req.get("request_id"))


def set_trace_tag(state: ServerState, req: Fields) -> Fields:
    state.store.set_trace_tag(_trace_id(req), req["key"], req.get("value", ""))
    return {}


def delete_trace_tag(state: ServerState, req: Fields) -> Fields:
    state.store.delete_trace_tag(_trace_id(req), req["key"])
    return {}


def link_traces_to_run(state: ServerState, req: Fields) -> Fields:
    state.store.get_run(req["run_id"])  # 404 for an unknown run
    state.store.link_traces_to_run(req.get("trace_ids", []), req["run_id"])
    return {}


routes = [
    *rpc(ep.START_TRACE_V3, start_trace),
    *rpc(ep.GET_TRACE, get_trace),
    *rpc(ep.BATCH_GET_TRACES, batch_get_traces),
    *rpc(ep.BATCH_GET_TRACE_INFOS, batch_get_trace_infos),
    *rpc(ep.SEARCH_TRACES_V3, search_traces),
    *rpc(ep.DELETE_TRACES, delete_traces),
    *rpc(ep.DELETE_TRACES_V3, delete_traces),
    *rpc(ep.LINK_TRACES_TO_RUN, link_traces_to_run),
    *rpc(ep.SET_TRACE_TAG, set_trace_tag),
    *rpc(ep.SET_TRACE_TAG_V3, set_trace_tag),
    *rpc(ep.DELETE_TRACE_TAG, delete_trace_tag),
    *rpc(ep.DELETE_TRACE_TAG_V3, delete_trace_tag),
    *rpc(ep.GET_TRACE_INFO_V3, get_trace_info),
]
