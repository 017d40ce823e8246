"""Model registry RPCs (ModelRegistryService, spec §2.10), all under ``/api/2.0/mlflow``.

Versions travel as strings (``"3"``), as in MLflow's proto. Three RPCs share the path
``registered-models/alias`` and differ by method (POST set, DELETE delete, GET get).
"""

from __future__ import annotations

from tracklet.wire.endpoints.base import BOOL, INT, MESSAGE, Endpoint, Field, repeated, required

NAME = required("name")
VERSION = required("version")

CREATE_REGISTERED_MODEL = Endpoint(
    "createRegisteredModel",
    ("POST",),
    "/mlflow/registered-models/create",
    (
        NAME,
        repeated("tags", MESSAGE, "RegisteredModelTag"),
        Field("description"),
        Field("deployment_job_id"),
    ),
)
RENAME_REGISTERED_MODEL = Endpoint(
    "renameRegisteredModel",
    ("POST",),
    "/mlflow/registered-models/rename",
    (NAME, required("new_name")),
)
UPDATE_REGISTERED_MODEL = Endpoint(
    "updateRegisteredModel",
    ("PATCH",),
    "/mlflow/registered-models/update",
    (NAME, Field("description"), Field("deployment_job_id")),
)
DELETE_REGISTERED_MODEL = Endpoint(
    "deleteRegisteredModel", ("DELETE",), "/mlflow/registered-models/delete", (NAME,)
)
GET_REGISTERED_MODEL = Endpoint(
    "getRegisteredModel", ("GET",), "/mlflow/registered-models/get", (NAME,)
)
SEARCH_REGISTERED_MODELS = Endpoint(
    "searchRegisteredModels",
    ("GET",),
    "/mlflow/registered-models/search",
    (Field("filter"), Field("max_results", INT), repeated("order_by"), Field("page_token")),
)
GET_LATEST_VERSIONS = Endpoint(
    "getLatestVersions",
    ("POST", "GET"),
    "/mlflow/registered-models/get-latest-versions",
    (NAME, repeated("stages")),
)
SET_REGISTERED_MODEL_TAG = Endpoint(
    "setRegisteredModelTag",
    ("POST",),
    "/mlflow/registered-models/set-tag",
    (NAME, required("key"), Field("value")),
)
DELETE_REGISTERED_MODEL_TAG = Endpoint(
    "deleteRegisteredModelTag",
    ("DELETE",),
    "/mlflow/registered-models/delete-tag",
    (NAME, required("key")),
)
CREATE_MODEL_VERSION = Endpoint(
    "createModelVersion",
    ("POST",),
    "/mlflow/model-versions/create",
    (
        NAME,
        required("source"),
        Field("run_id"),
        repeated("tags", MESSAGE, "ModelVersionTag"),
        Field("run_link"),
        Field("description"),
        Field("model_id"),
    ),
)
UPDATE_MODEL_VERSION = Endpoint(
    "updateModelVersion",
    ("PATCH",),
    "/mlflow/model-versions/update",
    (NAME, VERSION, Field("description")),
)
TRANSITION_MODEL_VERSION_STAGE = Endpoint(
    "transitionModelVersionStage",
    ("POST",),
    "/mlflow/model-versions/transition-stage",
    (NAME, VERSION, required("stage"), Field("archive_existing_versions", BOOL)),
)
DELETE_MODEL_VERSION = Endpoint(
    "deleteModelVersion", ("DELETE",), "/mlflow/model-versions/delete", (NAME, VERSION)
)
GET_MODEL_VERSION = Endpoint(
    "getModelVersion", ("GET",), "/mlflow/model-versions/get", (NAME, VERSION)
)
SEARCH_MODEL_VERSIONS = Endpoint(
    "searchModelVersions",
    ("GET",),
    "/mlflow/model-versions/search",
    (Field("filter"), Field("max_results", INT), repeated("order_by"), Field("page_token")),
)
GET_MODEL_VERSION_DOWNLOAD_URI = Endpoint(
    "getModelVersionDownloadUri",
    ("GET",),
    "/mlflow/model-versions/get-download-uri",
    (NAME, VERSION),
)
SET_MODEL_VERSION_TAG = Endpoint(
    "setModelVersionTag",
    ("POST",),
    "/mlflow/model-versions/set-tag",
    (NAME, VERSION, required("key"), Field("value")),
)
DELETE_MODEL_VERSION_TAG = Endpoint(
    "deleteModelVersionTag",
    ("DELETE",),
    "/mlflow/model-versions/delete-tag",
    (NAME, VERSION, required("key")),
)
SET_REGISTERED_MODEL_ALIAS = Endpoint(
    "setRegisteredModelAlias",
    ("POST",),
    "/mlflow/registered-models/alias",
    (NAME, required("alias"), VERSION),
)
DELETE_REGISTERED_MODEL_ALIAS = Endpoint(
    "deleteRegisteredModelAlias",
    ("DELETE",),
    "/mlflow/registered-models/alias",
    (NAME, required("alias")),
)
GET_MODEL_VERSION_BY_ALIAS = Endpoint(
    "getModelVersionByAlias",
    ("GET",),
    "/mlflow/registered-models/alias",
    (NAME, required("alias")),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    CREATE_REGISTERED_MODEL,
    RENAME_REGISTERED_MODEL,
    UPDATE_REGISTERED_MODEL,
    DELETE_REGISTERED_MODEL,
    GET_REGISTERED_MODEL,
    SEARCH_REGISTERED_MODELS,
    GET_LATEST_VERSIONS,
    SET_REGISTERED_MODEL_TAG,
    DELETE_REGISTERED_MODEL_TAG,
    CREATE_MODEL_VERSION,
    UPDATE_MODEL_VERSION,
    TRANSITION_MODEL_VERSION_STAGE,
    DELETE_MODEL_VERSION,
    GET_MODEL_VERSION,
    SEARCH_MODEL_VERSIONS,
    GET_MODEL_VERSION_DOWNLOAD_URI,
    SET_MODEL_VERSION_TAG,
    DELETE_MODEL_VERSION_TAG,
    SET_REGISTERED_MODEL_ALIAS,
    DELETE_REGISTERED_MODEL_ALIAS,
    GET_MODEL_VERSION_BY_ALIAS,
)

__all__ = [
    "CREATE_MODEL_VERSION",
    "CREATE_REGISTERED_MODEL",
    "DELETE_MODEL_VERSION",
    "DELETE_MODEL_VERSION_TAG",
    "DELETE_REGISTERED_MODEL",
    "DELETE_REGISTERED_MODEL_ALIAS",
    "DELETE_REGISTERED_MODEL_TAG",
    "GET_LATEST_VERSIONS",
    "GET_MODEL_VERSION",
    "GET_MODEL_VERSION_BY_ALIAS",
    "GET_MODEL_VERSION_DOWNLOAD_URI",
    "GET_REGISTERED_MODEL",
    "RENAME_REGISTERED_MODEL",
    "SEARCH_MODEL_VERSIONS",
    "SEARCH_REGISTERED_MODELS",
    "SET_MODEL_VERSION_TAG",
    "SET_REGISTERED_MODEL_ALIAS",
    "SET_REGISTERED_MODEL_TAG",
    "TRANSITION_MODEL_VERSION_STAGE",
    "UPDATE_MODEL_VERSION",
    "UPDATE_REGISTERED_MODEL",
]
