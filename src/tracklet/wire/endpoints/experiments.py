"""Experiment RPCs (spec §2.2)."""

from __future__ import annotations

from tracklet.wire.endpoints.base import (
    ENUM,
    EXPERIMENT_ID,
    INT,
    KEY,
    MESSAGE,
    VIEW_TYPE,
    Endpoint,
    Field,
    repeated,
    required,
)

CREATE_EXPERIMENT = Endpoint(
    "createExperiment",
    ("POST",),
    "/mlflow/experiments/create",
    (
        required("name"),
        Field("artifact_location"),
        repeated("tags", MESSAGE, "ExperimentTag"),
    ),
)
GET_EXPERIMENT = Endpoint("getExperiment", ("GET",), "/mlflow/experiments/get", (EXPERIMENT_ID,))
GET_EXPERIMENT_BY_NAME = Endpoint(
    "getExperimentByName",
    ("GET",),
    "/mlflow/experiments/get-by-name",
    (required("experiment_name"),),
)
SEARCH_EXPERIMENTS = Endpoint(
    "searchExperiments",
    ("POST", "GET"),
    "/mlflow/experiments/search",
    (
        Field("max_results", INT),
        Field("page_token"),
        Field("filter"),
        repeated("order_by"),
        Field("view_type", ENUM, enum=VIEW_TYPE),
    ),
)
UPDATE_EXPERIMENT = Endpoint(
    "updateExperiment",
    ("POST",),
    "/mlflow/experiments/update",
    (EXPERIMENT_ID, required("new_name")),
)
DELETE_EXPERIMENT = Endpoint(
    "deleteExperiment", ("POST",), "/mlflow/experiments/delete", (EXPERIMENT_ID,)
)
RESTORE_EXPERIMENT = Endpoint(
    "restoreExperiment", ("POST",), "/mlflow/experiments/restore", (EXPERIMENT_ID,)
)
SET_EXPERIMENT_TAG = Endpoint(
    "setExperimentTag",
    ("POST",),
    "/mlflow/experiments/set-experiment-tag",
    (EXPERIMENT_ID, KEY, Field("value")),
)
DELETE_EXPERIMENT_TAG = Endpoint(
    "deleteExperimentTag",
    ("POST",),
    "/mlflow/experiments/delete-experiment-tag",
    (EXPERIMENT_ID, KEY),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_EXPERIMENT,
    GET_EXPERIMENT,
    GET_EXPERIMENT_BY_NAME,
    SEARCH_EXPERIMENTS,
    UPDATE_EXPERIMENT,
    DELETE_EXPERIMENT,
    RESTORE_EXPERIMENT,
    SET_EXPERIMENT_TAG,
    DELETE_EXPERIMENT_TAG,
)

__all__ = [
    "CREATE_EXPERIMENT",
    "DELETE_EXPERIMENT",
    "DELETE_EXPERIMENT_TAG",
    "GET_EXPERIMENT",
    "GET_EXPERIMENT_BY_NAME",
    "RESTORE_EXPERIMENT",
    "SEARCH_EXPERIMENTS",
    "SET_EXPERIMENT_TAG",
    "UPDATE_EXPERIMENT",
]
