"""The one table of MLflow REST endpoints that the server routes and the REST store calls.

Each :class:`Endpoint` names an RPC, its HTTP method(s), its proto path and the major version it
is served under (``/api/<major>.0<path>`` and ``/ajax-api/<major>.0<path>``, spec §1.1), and the
request fields it accepts. The server decodes requests with these fields
(:mod:`tracklet.wire.decode`); the REST store builds its requests from the same entries, so the two
cannot disagree on a path or a field name.
"""

from __future__ import annotations

from dataclasses import dataclass

# Field kinds (proto scalar types, as MLflow's JSON mapping carries them).
STRING = "string"
INT = "int"  # int32 / int64: JSON numbers, or strings (protobuf-java writes int64 as strings)
DOUBLE = "double"  # numbers, or "NaN" / "Infinity" / "-Infinity"
BOOL = "bool"
ENUM = "enum"  # the value name, or its number
MESSAGE = "message"  # a nested object, decoded by the codec function named by ``message``

VIEW_TYPE = (("ACTIVE_ONLY", 1), ("DELETED_ONLY", 2), ("ALL", 3))
LOGGED_MODEL_STATUS = (
    ("LOGGED_MODEL_STATUS_UNSPECIFIED", 0),
    ("LOGGED_MODEL_PENDING", 1),
    ("LOGGED_MODEL_READY", 2),
    ("LOGGED_MODEL_UPLOAD_FAILED", 3),
)
RUN_STATUS = (("RUNNING", 1), ("SCHEDULED", 2), ("FINISHED", 3), ("FAILED", 4), ("KILLED", 5))


@dataclass(frozen=True, slots=True)
class Field:
    """One request field: its proto name, kind, and whether it is repeated or required."""

    name: str
    kind: str = STRING
    repeated: bool = False
    required: bool = False
    message: str = ""
    enum: tuple[tuple[str, int], ...] = ()

    @property
    def json_name(self) -> str:
        """The lowerCamel spelling that protobuf's JSON parser also accepts."""
        head, *rest = self.name.split("_")
        return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One RPC: HTTP methods (the first is what the REST store sends), proto path, fields."""

    name: str
    methods: tuple[str, ...]
    path: str
    fields: tuple[Field, ...] = ()
    major: int = 2
    api: bool = True  # served under /api (False: UI-only routes under /ajax-api)
    run_id_alias: bool = False  # accepts the legacy ``run_uuid`` for ``run_id``

    @property
    def method(self) -> str:
        return self.methods[0]

    @property
    def api_path(self) -> str:
        """The path the REST store calls: ``/api/<major>.0<path>`` (or ajax-api if UI-only)."""
        return f"/{'api' if self.api else 'ajax-api'}/{self.major}.0{self.path}"

    def route_paths(self) -> list[str]:
        """Every path the server serves this RPC at (only its own major version)."""
        prefixes = ("api", "ajax-api") if self.api else ("ajax-api",)
        return [f"/{prefix}/{self.major}.0{self.path}" for prefix in prefixes]


def _req(name: str, kind: str = STRING) -> Field:
    return Field(name, kind, required=True)


def _list(name: str, kind: str = STRING, message: str = "") -> Field:
    return Field(name, kind, repeated=True, message=message)


_RUN_ID = _req("run_id")
_EXPERIMENT_ID = _req("experiment_id")
_KEY = _req("key")

# ---------------------------------------------------------------- experiments (spec §2.2)
CREATE_EXPERIMENT = Endpoint(
    "createExperiment",
    ("POST",),
    "/mlflow/experiments/create",
    (
        _req("name"),
        Field("artifact_location"),
        _list("tags", MESSAGE, "ExperimentTag"),
    ),
)
GET_EXPERIMENT = Endpoint("getExperiment", ("GET",), "/mlflow/experiments/get", (_EXPERIMENT_ID,))
GET_EXPERIMENT_BY_NAME = Endpoint(
    "getExperimentByName", ("GET",), "/mlflow/experiments/get-by-name", (_req("experiment_name"),)
)
SEARCH_EXPERIMENTS = Endpoint(
    "searchExperiments",
    ("POST", "GET"),
    "/mlflow/experiments/search",
    (
        Field("max_results", INT),
        Field("page_token"),
        Field("filter"),
        _list("order_by"),
        Field("view_type", ENUM, enum=VIEW_TYPE),
    ),
)
UPDATE_EXPERIMENT = Endpoint(
    "updateExperiment", ("POST",), "/mlflow/experiments/update", (_EXPERIMENT_ID, _req("new_name"))
)
DELETE_EXPERIMENT = Endpoint(
    "deleteExperiment", ("POST",), "/mlflow/experiments/delete", (_EXPERIMENT_ID,)
)
RESTORE_EXPERIMENT = Endpoint(
    "restoreExperiment", ("POST",), "/mlflow/experiments/restore", (_EXPERIMENT_ID,)
)
SET_EXPERIMENT_TAG = Endpoint(
    "setExperimentTag",
    ("POST",),
    "/mlflow/experiments/set-experiment-tag",
    (_EXPERIMENT_ID, _KEY, Field("value")),
)
DELETE_EXPERIMENT_TAG = Endpoint(
    "deleteExperimentTag",
    ("POST",),
    "/mlflow/experiments/delete-experiment-tag",
    (_EXPERIMENT_ID, _KEY),
)
# UI only: the declared proto path lacks its leading '/', so only the ajax route works (§2.9).
SEARCH_DATASETS = Endpoint(
    "searchDatasets",
    ("POST",),
    "/mlflow/experiments/search-datasets",
    (_list("experiment_ids"),),
    api=False,
)

# ---------------------------------------------------------------- runs (spec §2.3)
CREATE_RUN = Endpoint(
    "createRun",
    ("POST",),
    "/mlflow/runs/create",
    (
        Field("experiment_id"),
        Field("user_id"),
        Field("run_name"),
        Field("start_time", INT),
        _list("tags", MESSAGE, "RunTag"),
    ),
)
GET_RUN = Endpoint("getRun", ("GET",), "/mlflow/runs/get", (_RUN_ID,), run_id_alias=True)
UPDATE_RUN = Endpoint(
    "updateRun",
    ("POST",),
    "/mlflow/runs/update",
    (
        _RUN_ID,
        Field("status", ENUM, enum=RUN_STATUS),
        Field("end_time", INT),
        Field("run_name"),
    ),
    run_id_alias=True,
)
DELETE_RUN = Endpoint("deleteRun", ("POST",), "/mlflow/runs/delete", (_RUN_ID,))
RESTORE_RUN = Endpoint("restoreRun", ("POST",), "/mlflow/runs/restore", (_RUN_ID,))
SEARCH_RUNS = Endpoint(
    "searchRuns",
    ("POST",),
    "/mlflow/runs/search",
    (
        _list("experiment_ids"),
        Field("filter"),
        Field("run_view_type", ENUM, enum=VIEW_TYPE),
        Field("max_results", INT),
        _list("order_by"),
        Field("page_token"),
    ),
)
LOG_METRIC = Endpoint(
    "logMetric",
    ("POST",),
    "/mlflow/runs/log-metric",
    (
        _RUN_ID,
        _KEY,
        _req("value", DOUBLE),
        _req("timestamp", INT),
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
    (_RUN_ID, _KEY, Field("value")),
    run_id_alias=True,
)
SET_TAG = Endpoint(
    "setTag", ("POST",), "/mlflow/runs/set-tag", (_RUN_ID, _KEY, Field("value")), run_id_alias=True
)
DELETE_TAG = Endpoint("deleteTag", ("POST",), "/mlflow/runs/delete-tag", (_RUN_ID, _KEY))
LOG_BATCH = Endpoint(
    "logBatch",
    ("POST",),
    "/mlflow/runs/log-batch",
    (
        _RUN_ID,
        # Kept as objects here: the server turns them into columns or Metrics (codec).
        _list("metrics", MESSAGE, "Object"),
        _list("params", MESSAGE, "Param"),
        _list("tags", MESSAGE, "RunTag"),
    ),
)
LOG_INPUTS = Endpoint(
    "logInputs",
    ("POST",),
    "/mlflow/runs/log-inputs",
    (
        _RUN_ID,
        _list("datasets", MESSAGE, "DatasetInput"),
        _list("models", MESSAGE, "ModelInput"),
    ),
)
LOG_OUTPUTS = Endpoint(
    "logOutputs",
    ("POST",),
    "/mlflow/runs/outputs",
    (_RUN_ID, Field("models", MESSAGE, repeated=True, required=True, message="ModelOutput")),
)
LOG_MODEL = Endpoint("logModel", ("POST",), "/mlflow/runs/log-model", (_RUN_ID, _req("model_json")))

# ---------------------------------------------------------------- metrics (spec §2.4)
GET_METRIC_HISTORY = Endpoint(
    "getMetricHistory",
    ("GET",),
    "/mlflow/metrics/get-history",
    (_RUN_ID, _req("metric_key"), Field("max_results", INT), Field("page_token")),
    run_id_alias=True,
)
GET_METRIC_HISTORY_BULK_INTERVAL = Endpoint(
    "getMetricHistoryBulkInterval",
    ("GET",),
    "/mlflow/metrics/get-history-bulk-interval",
    (
        Field("run_ids", repeated=True, required=True),
        _req("metric_key"),
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
    (_list("run_id"), Field("metric_key"), Field("max_results", INT)),
    api=False,
)

# ---------------------------------------------------------------- run artifacts (spec §2.5)
LIST_ARTIFACTS = Endpoint(
    "listArtifacts",
    ("GET",),
    "/mlflow/artifacts/list",
    (_RUN_ID, Field("path"), Field("page_token")),
    run_id_alias=True,
)
CREATE_PRESIGNED_UPLOAD_URL = Endpoint(
    "createPresignedUploadUrl", ("POST",), "/mlflow/artifacts/presigned-upload-url"
)
CREATE_PRESIGNED_DOWNLOAD_URL = Endpoint(
    "createPresignedDownloadUrl", ("POST",), "/mlflow/artifacts/presigned-download-url"
)

# ---------------------------------------------------------------- server (spec §1.5)
SERVER_INFO = Endpoint("serverInfo", ("GET",), "/mlflow/server-info", major=3)

# ---------------------------------------------------------------- logged models (spec §2.6)
# ``{model_id}`` and ``{tag_key}`` are path parameters (FinalizeLoggedModel reads model_id from
# the body, the others from the path: spec trap 10).
CREATE_LOGGED_MODEL = Endpoint(
    "createLoggedModel",
    ("POST",),
    "/mlflow/logged-models",
    (
        _EXPERIMENT_ID,
        Field("name"),
        Field("model_type"),
        Field("source_run_id"),
        _list("params", MESSAGE, "LoggedModelParameter"),
        _list("tags", MESSAGE, "LoggedModelTag"),
    ),
)
GET_LOGGED_MODEL = Endpoint("getLoggedModel", ("GET",), "/mlflow/logged-models/{model_id}")
FINALIZE_LOGGED_MODEL = Endpoint(
    "finalizeLoggedModel",
    ("PATCH",),
    "/mlflow/logged-models/{model_id}",
    (_req("model_id"), Field("status", ENUM, required=True, enum=LOGGED_MODEL_STATUS)),
)
DELETE_LOGGED_MODEL = Endpoint(
    "deleteLoggedModel", ("DELETE",), "/mlflow/logged-models/{model_id}", (Field("model_id"),)
)
SEARCH_LOGGED_MODELS = Endpoint(
    "searchLoggedModels",
    ("POST",),
    "/mlflow/logged-models/search",
    (
        _list("experiment_ids"),
        Field("filter"),
        _list("datasets", MESSAGE, "Object"),
        Field("max_results", INT),
        _list("order_by", MESSAGE, "Object"),
        Field("page_token"),
    ),
)
SET_LOGGED_MODEL_TAGS = Endpoint(
    "setLoggedModelTags",
    ("PATCH",),
    "/mlflow/logged-models/{model_id}/tags",
    (_list("tags", MESSAGE, "LoggedModelTag"),),
)
DELETE_LOGGED_MODEL_TAG = Endpoint(
    "deleteLoggedModelTag", ("DELETE",), "/mlflow/logged-models/{model_id}/tags/{tag_key}"
)
LOG_LOGGED_MODEL_PARAMS = Endpoint(
    "logLoggedModelParams",
    ("POST",),
    "/mlflow/logged-models/{model_id}/params",
    (_list("params", MESSAGE, "LoggedModelParameter"),),
)
LOGGED_MODEL_ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_LOGGED_MODEL,
    GET_LOGGED_MODEL,
    FINALIZE_LOGGED_MODEL,
    DELETE_LOGGED_MODEL,
    SEARCH_LOGGED_MODELS,
    SET_LOGGED_MODEL_TAGS,
    DELETE_LOGGED_MODEL_TAG,
    LOG_LOGGED_MODEL_PARAMS,
)

# ---------------------------------------------------------------- artifact proxy (spec §2.7)
# Paths carry the artifact path after the prefix; the server routes them with a path parameter.
ARTIFACTS_PREFIX = "/mlflow-artifacts/artifacts"
MPU_CREATE_PREFIX = "/mlflow-artifacts/mpu/create"
MPU_COMPLETE_PREFIX = "/mlflow-artifacts/mpu/complete"
MPU_ABORT_PREFIX = "/mlflow-artifacts/mpu/abort"
PRESIGNED_PREFIX = "/mlflow-artifacts/presigned"

# Every JSON RPC of the tracking core, in the order the server registers them.
TRACKING_ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_EXPERIMENT,
    GET_EXPERIMENT,
    GET_EXPERIMENT_BY_NAME,
    SEARCH_EXPERIMENTS,
    UPDATE_EXPERIMENT,
    DELETE_EXPERIMENT,
    RESTORE_EXPERIMENT,
    SET_EXPERIMENT_TAG,
    DELETE_EXPERIMENT_TAG,
    SEARCH_DATASETS,
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
    GET_METRIC_HISTORY,
    GET_METRIC_HISTORY_BULK_INTERVAL,
    GET_METRIC_HISTORY_BULK,
    LIST_ARTIFACTS,
    CREATE_PRESIGNED_UPLOAD_URL,
    CREATE_PRESIGNED_DOWNLOAD_URL,
    SERVER_INFO,
)

__all__ = [
    "BOOL",
    "DOUBLE",
    "ENUM",
    "INT",
    "LOGGED_MODEL_ENDPOINTS",
    "MESSAGE",
    "STRING",
    "TRACKING_ENDPOINTS",
    "Endpoint",
    "Field",
]
