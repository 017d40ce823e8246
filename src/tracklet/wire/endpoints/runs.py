"""Run RPCs (spec §2.3): lifecycle, search, and everything logged to a run."""

from __future__ import annotations

from tracklet.wire.endpoints.base import (
    DOUBLE,
    ENUM,
    INT,
    KEY,
    MESSAGE,
    RUN_ID,
    RUN_STATUS,
    VIEW_TYPE,
    Endpoint,
    Field,
    repeated,
    required,
)

CREATE_RUN = Endpoint(
    "createRun",
    ("POST",),
    "/mlflow/runs/create",
    (
        Field("experiment_id"),
        Field("user_id"),
        Field("run_name"),
        Field("start_time", INT),
        repeated("tags", MESSAGE, "RunTag"),
    ),
)
GET_RUN = Endpoint("getRun", ("GET",), "/mlflow/runs/get", (RUN_ID,), run_id_alias=True)
UPDATE_RUN = Endpoint(
    "updateRun",
    ("POST",),
    "/mlflow/runs/update",
    (
        RUN_ID,
        Field("status", ENUM, enum=RUN_STATUS),
        Field("end_time", INT),
        Field("run_name"),
    ),
    run_id_alias=True,
)
DELETE_RUN = Endpoint("deleteRun", ("POST",), "/mlflow/runs/delete", (RUN_ID,))
RESTORE_RUN = Endpoint("restoreRun", ("POST",), "/mlflow/runs/restore", (RUN_ID,))
SEARCH_RUNS = Endpoint(
    "searchRuns",
    ("POST",),
    "/mlflow/runs/search",
    (
        repeated("experiment_ids"),
        Field("filter"),
        Field("run_view_type", ENUM, enum=VIEW_TYPE),
        Field("max_results", INT),
        repeated("order_by"),
        Field("page_token"),
    ),
)
LOG_METRIC = Endpoint(
    "logMetric",
    ("POST",),
    "/mlflow/runs/log-metric",
    (
        RUN_ID,
        KEY,
        required("value", DOUBLE),
        required("timestamp", INT),
        Field("step", INT),
        Field("model_id"),
        Field("dataset_name"),
        Field("dataset_digest"),
    ),
    run_id_alias=True,
)
LOG_PARAM = Endpoint(
    "logParam",
    ("POST",),
    "/mlflow/runs/log-parameter",
    (RUN_ID, KEY, Field("value")),
    run_id_alias=True,
)
SET_TAG = Endpoint(
    "setTag", ("POST",), "/mlflow/runs/set-tag", (RUN_ID, KEY, Field("value")), run_id_alias=True
)
DELETE_TAG = Endpoint("deleteTag", ("POST",), "/mlflow/runs/delete-tag", (RUN_ID, KEY))
LOG_BATCH = Endpoint(
    "logBatch",
    ("POST",),
    "/mlflow/runs/log-batch",
    (
        RUN_ID,
        # Kept as objects here: the server turns them into columns or Metrics (codec).
        repeated("metrics", MESSAGE, "Object"),
        repeated("params", MESSAGE, "Param"),
        repeated("tags", MESSAGE, "RunTag"),
    ),
)
LOG_INPUTS = Endpoint(
    "logInputs",
    ("POST",),
    "/mlflow/runs/log-inputs",
    (
        RUN_ID,
        repeated("datasets", MESSAGE, "DatasetInput"),
        repeated("models", MESSAGE, "ModelInput"),
    ),
)
LOG_OUTPUTS = Endpoint(
    "logOutputs",
    ("POST",),
    "/mlflow/runs/outputs",
    (RUN_ID, Field("models", MESSAGE, repeated=True, required=True, message="ModelOutput")),
)
LOG_MODEL = Endpoint(
    "logModel", ("POST",), "/mlflow/runs/log-model", (RUN_ID, required("model_json"))
)

ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_RUN,
    GET_RUN,
    UPDATE_RUN,
    DELETE_RUN,
    RESTORE_RUN,
    SEARCH_RUNS,
    LOG_METRIC,
    LOG_PARAM,
    SET_TAG,
    DELETE_TAG,
    LOG_BATCH,
    LOG_INPUTS,
    LOG_OUTPUTS,
    LOG_MODEL,
)

__all__ = [
    "CREATE_RUN",
    "DELETE_RUN",
    "DELETE_TAG",
    "GET_RUN",
    "LOG_BATCH",
    "LOG_INPUTS",
    "LOG_METRIC",
    "LOG_MODEL",
    "LOG_OUTPUTS",
    "LOG_PARAM",
    "RESTORE_RUN",
    "SEARCH_RUNS",
    "SET_TAG",
    "UPDATE_RUN",
]
