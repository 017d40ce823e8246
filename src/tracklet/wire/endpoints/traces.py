"""The trace RPCs of MLflow 3.17 (spec §2.8): v3 reads, writes and search, and the v2 paths the
3.x client still uses for tags, deletion and run links."""

from __future__ import annotations

from tracklet.wire.endpoints.base import BOOL, INT, MESSAGE, STRING, Endpoint, Field


def _req(name: str, kind: str = STRING) -> Field:
    return Field(name, kind, required=True)


def _list(name: str, kind: str = STRING, message: str = "") -> Field:
    return Field(name, kind, repeated=True, message=message)


START_TRACE_V3 = Endpoint(
    "startTraceV3",
    ("POST",),
    "/mlflow/traces",
    (Field("trace", MESSAGE, required=True, message="Object"),),
    major=3,
)
# Before /traces/{trace_id}: "get" is not a trace id (spec trap 15).
GET_TRACE = Endpoint(
    "getTrace",
    ("GET",),
    "/mlflow/traces/get",
    (_req("trace_id"), Field("allow_partial", BOOL)),
    major=3,
)
BATCH_GET_TRACES = Endpoint(
    "batchGetTraces",
    ("GET",),
    "/mlflow/traces/batchGet",
    (_list("trace_ids"), _list("experiment_ids")),
    major=3,
)
BATCH_GET_TRACE_INFOS = Endpoint(
    "batchGetTraceInfos",
    ("POST",),
    "/mlflow/traces/batchGetInfos",
    (_list("trace_ids"), _list("experiment_ids")),
    major=3,
)
SEARCH_TRACES_V3 = Endpoint(
    "searchTracesV3",
    ("POST",),
    "/mlflow/traces/search",
    (
        _list("locations", MESSAGE, "Object"),
        Field("filter"),
        Field("max_results", INT),
        _list("order_by"),
        Field("page_token"),
    ),
    major=3,
)
_DELETE_FIELDS = (
    Field("experiment_id"),
    Field("max_timestamp_millis", INT),
    Field("max_traces", INT),
    _list("request_ids"),
)
DELETE_TRACES = Endpoint("deleteTraces", ("POST",), "/mlflow/traces/delete-traces", _DELETE_FIELDS)
DELETE_TRACES_V3 = Endpoint(
    "deleteTracesV3", ("POST",), "/mlflow/traces/delete-traces", _DELETE_FIELDS, major=3
)
LINK_TRACES_TO_RUN = Endpoint(
    "linkTracesToRun",
    ("POST",),
    "/mlflow/traces/link-to-run",
    (_list("trace_ids"), _req("run_id")),
)
SET_TRACE_TAG = Endpoint(
    "setTraceTag", ("PATCH",), "/mlflow/traces/{request_id}/tags", (_req("key"), Field("value"))
)
SET_TRACE_TAG_V3 = Endpoint(
    "setTraceTagV3",
    ("PATCH",),
    "/mlflow/traces/{trace_id}/tags",
    (_req("key"), Field("value")),
    major=3,
)
DELETE_TRACE_TAG = Endpoint(
    "deleteTraceTag", ("DELETE",), "/mlflow/traces/{request_id}/tags", (_req("key"),)
)
DELETE_TRACE_TAG_V3 = Endpoint(
    "deleteTraceTagV3", ("DELETE",), "/mlflow/traces/{trace_id}/tags", (_req("key"),), major=3
)
GET_TRACE_INFO_V3 = Endpoint(
    "getTraceInfoV3", ("GET",), "/mlflow/traces/{trace_id}", (Field("trace_id"),), major=3
)
# OTLP/HTTP ingest (not under /api): ExportTraceServiceRequest, protobuf or JSON.
OTLP_TRACES_PATH = "/v1/traces"
EXPERIMENT_ID_HEADER = "x-mlflow-experiment-id"
RUN_ID_HEADER = "x-mlflow-run-id"

ENDPOINTS: tuple[Endpoint, ...] = (
    START_TRACE_V3,
    GET_TRACE,
    BATCH_GET_TRACES,
    BATCH_GET_TRACE_INFOS,
    SEARCH_TRACES_V3,
    DELETE_TRACES,
    DELETE_TRACES_V3,
    LINK_TRACES_TO_RUN,
    SET_TRACE_TAG,
    SET_TRACE_TAG_V3,
    DELETE_TRACE_TAG,
    DELETE_TRACE_TAG_V3,
    GET_TRACE_INFO_V3,
)

__all__ = [
    "BATCH_GET_TRACES",
    "BATCH_GET_TRACE_INFOS",
    "DELETE_TRACES",
    "DELETE_TRACES_V3",
    "DELETE_TRACE_TAG",
    "DELETE_TRACE_TAG_V3",
    "EXPERIMENT_ID_HEADER",
    "GET_TRACE",
    "GET_TRACE_INFO_V3",
    "LINK_TRACES_TO_RUN",
    "OTLP_TRACES_PATH",
    "RUN_ID_HEADER",
    "SEARCH_TRACES_V3",
    "SET_TRACE_TAG",
    "SET_TRACE_TAG_V3",
    "START_TRACE_V3",
]
