"""The one place exceptions become responses: MLflow's JSON error body and status (spec §5).

Unknown routes and wrong methods keep Starlette's plain-text 404/405: a non-JSON 404 is what
MLflow's clients read as ENDPOINT_NOT_FOUND (spec trap 3). Anything unexpected is logged and
answered with a JSON 500 by :mod:`tracklet.server.middleware`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.server.artifact_files import UploadTooLarge
from tracklet.server.rpc import JSON, PayloadTooLarge
from tracklet.wire.errors import error_body, error_status


async def mlflow_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, MlflowException)
    return Response(error_body(exc), status_code=error_status(exc), media_type=JSON)


async def too_large(request: Request, exc: Exception) -> Response:
    hint = "--max-artifact-size" if isinstance(exc, UploadTooLarge) else "--max-request-size"
    error = MlflowException(f"{exc} (see {hint}).", INVALID_PARAMETER_VALUE)
    # 413, not a 5xx: MLflow clients retry 5xx for minutes, and this will not get better.
    return Response(error_body(error), status_code=413, media_type=JSON)


EXCEPTION_HANDLERS = {
    MlflowException: mlflow_error,
    PayloadTooLarge: too_large,
    UploadTooLarge: too_large,
}
