"""Logged model RPCs (spec §2.6).

``{model_id}`` and ``{tag_key}`` are path parameters (FinalizeLoggedModel reads model_id from the
body, the others from the path: spec trap 10).
"""

from __future__ import annotations

from tracklet.wire.endpoints.base import (
    ENUM,
    EXPERIMENT_ID,
    INT,
    MESSAGE,
    Endpoint,
    Field,
    repeated,
    required,
)

LOGGED_MODEL_STATUS = (
    ("LOGGED_MODEL_STATUS_UNSPECIFIED", 0),
    ("LOGGED_MODEL_PENDING", 1),
    ("LOGGED_MODEL_READY", 2),
    ("LOGGED_MODEL_UPLOAD_FAILED", 3),
)

CREATE_LOGGED_MODEL = Endpoint(
    "createLoggedModel",
    ("POST",),
    "/mlflow/logged-models",
    (
        EXPERIMENT_ID,
        Field("name"),
        Field("model_type"),
        Field("source_run_id"),
        repeated("params", MESSAGE, "LoggedModelParameter"),
        repeated("tags", MESSAGE, "LoggedModelTag"),
    ),
)
GET_LOGGED_MODEL = Endpoint("getLoggedModel", ("GET",), "/mlflow/logged-models/{model_id}")
FINALIZE_LOGGED_MODEL = Endpoint(
    "finalizeLoggedModel",
    ("PATCH",),
    "/mlflow/logged-models/{model_id}",
    (required("model_id"), Field("status", ENUM, required=True, enum=LOGGED_MODEL_STATUS)),
)
DELETE_LOGGED_MODEL = Endpoint(
    "deleteLoggedModel", ("DELETE",), "/mlflow/logged-models/{model_id}", (Field("model_id"),)
)
SEARCH_LOGGED_MODELS = Endpoint(
    "searchLoggedModels",
    ("POST",),
    "/mlflow/logged-models/search",
    (
        repeated("experiment_ids"),
        Field("filter"),
        repeated("datasets", MESSAGE, "Object"),
        Field("max_results", INT),
        repeated("order_by", MESSAGE, "Object"),
        Field("page_token"),
    ),
)
SET_LOGGED_MODEL_TAGS = Endpoint(
    "setLoggedModelTags",
    ("PATCH",),
    "/mlflow/logged-models/{model_id}/tags",
    (repeated("tags", MESSAGE, "LoggedModelTag"),),
)
DELETE_LOGGED_MODEL_TAG = Endpoint(
    "deleteLoggedModelTag", ("DELETE",), "/mlflow/logged-models/{model_id}/tags/{tag_key}"
)
LOG_LOGGED_MODEL_PARAMS = Endpoint(
    "logLoggedModelParams",
    ("POST",),
    "/mlflow/logged-models/{model_id}/params",
    (repeated("params", MESSAGE, "LoggedModelParameter"),),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_LOGGED_MODEL,
    GET_LOGGED_MODEL,
    FINALIZE_LOGGED_MODEL,
    DELETE_LOGGED_MODEL,
    SEARCH_LOGGED_MODELS,
    SET_LOGGED_MODEL_TAGS,
    DELETE_LOGGED_MODEL_TAG,
    LOG_LOGGED_MODEL_PARAMS,
)

__all__ = [
    "CREATE_LOGGED_MODEL",
    "DELETE_LOGGED_MODEL",
    "DELETE_LOGGED_MODEL_TAG",
    "FINALIZE_LOGGED_MODEL",
    "GET_LOGGED_MODEL",
    "LOGGED_MODEL_STATUS",
    "LOG_LOGGED_MODEL_PARAMS",
    "SEARCH_LOGGED_MODELS",
    "SET_LOGGED_MODEL_TAGS",
]
