"""Run artifact RPCs (spec §2.5) and the artifact proxy's path prefixes (spec §2.7)."""

from __future__ import annotations

from tracklet.wire.endpoints.base import RUN_ID, Endpoint, Field

LIST_ARTIFACTS = Endpoint(
    "listArtifacts",
    ("GET",),
    "/mlflow/artifacts/list",
    (RUN_ID, Field("path"), Field("page_token")),
    run_id_alias=True,
)
CREATE_PRESIGNED_UPLOAD_URL = Endpoint(
    "createPresignedUploadUrl", ("POST",), "/mlflow/artifacts/presigned-upload-url"
)
CREATE_PRESIGNED_DOWNLOAD_URL = Endpoint(
    "createPresignedDownloadUrl", ("POST",), "/mlflow/artifacts/presigned-download-url"
)

# The artifact proxy is not JSON RPCs: its paths carry the artifact path after the prefix, and
# the server routes them with a path parameter.
ARTIFACTS_PREFIX = "/mlflow-artifacts/artifacts"
MPU_CREATE_PREFIX = "/mlflow-artifacts/mpu/create"
MPU_COMPLETE_PREFIX = "/mlflow-artifacts/mpu/complete"
MPU_ABORT_PREFIX = "/mlflow-artifacts/mpu/abort"
PRESIGNED_PREFIX = "/mlflow-artifacts/presigned"

ENDPOINTS: tuple[Endpoint, ...] = (
    LIST_ARTIFACTS,
    CREATE_PRESIGNED_UPLOAD_URL,
    CREATE_PRESIGNED_DOWNLOAD_URL,
)

__all__ = [
    "ARTIFACTS_PREFIX",
    "CREATE_PRESIGNED_DOWNLOAD_URL",
    "CREATE_PRESIGNED_UPLOAD_URL",
    "LIST_ARTIFACTS",
    "MPU_ABORT_PREFIX",
    "MPU_COMPLETE_PREFIX",
    "MPU_CREATE_PREFIX",
    "PRESIGNED_PREFIX",
]
