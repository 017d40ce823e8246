"""Metric history RPCs (spec §2.4)."""

from __future__ import annotations

from tracklet.wire.endpoints.base import INT, RUN_ID, Endpoint, Field, repeated, required

GET_METRIC_HISTORY = Endpoint(
    "getMetricHistory",
    ("GET",),
    "/mlflow/metrics/get-history",
    (RUN_ID, required("metric_key"), Field("max_results", INT), Field("page_token")),
    run_id_alias=True,
)
GET_METRIC_HISTORY_BULK_INTERVAL = Endpoint(
    "getMetricHistoryBulkInterval",
    ("GET",),
    "/mlflow/metrics/get-history-bulk-interval",
    (
        Field("run_ids", repeated=True, required=True),
        required("metric_key"),
        Field("start_step", INT),
        Field("end_step", INT),
        Field("max_results", INT),
    ),
)
# Not a proto RPC: the UI's older bulk history read, ajax only, ``run_id`` repeated.
GET_METRIC_HISTORY_BULK = Endpoint(
    "getMetricHistoryBulk",
    ("GET",),
    "/mlflow/metrics/get-history-bulk",
    (repeated("run_id"), Field("metric_key"), Field("max_results", INT)),
    api=False,
)

ENDPOINTS: tuple[Endpoint, ...] = (
    GET_METRIC_HISTORY,
    GET_METRIC_HISTORY_BULK_INTERVAL,
    GET_METRIC_HISTORY_BULK,
)

__all__ = ["GET_METRIC_HISTORY", "GET_METRIC_HISTORY_BULK", "GET_METRIC_HISTORY_BULK_INTERVAL"]
