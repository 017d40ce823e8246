"""The one place exceptions become responses: MLflow's JSON error body and status (spec §5).

Unknown routes and wrong methods keep Starlette's plain-text 404/405: a non-JSON 404 is what
MLflow's clients read as ENDPOINT_NOT_FOUND (spec trap 3). Anything unexpected is logged and
answered with a JSON 500 by :mod:`tracklet.server.middleware`.
"""

from __future__ import annotations

import errno
import sqlite3
import sys

from starlette.requests import Request
from starlette.responses import Response

from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_EXHAUSTED, MlflowException
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


# 507 Insufficient Storage: not among the statuses MLflow's clients retry (429, 500, 502, 503,
# 504; mlflow/utils/request_utils.py) nor tracklet's (429, 503), so the user hears "disk full"
# at once rather than "max retries exceeded" minutes later.
STORAGE_FULL_STATUS = 507
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13
_POSTGRES_DISK_FULL = "53100"


def storage_full(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the disk or the database is full."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error) and (
            getattr(current, "sqlite_errorcode", None) == _SQLITE_FULL
            or "database or disk is full" in str(current)
        ):
            return True
        psycopg = sys.modules.get("psycopg")
        if (
            psycopg is not None
            and isinstance(current, psycopg.Error)
            and current.sqlstate == _POSTGRES_DISK_FULL
        ):
            return True
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return False


def storage_full_body() -> bytes:
    error = MlflowException(
        "The tracking server is out of storage space (disk full); nothing was saved. Free "
        "space on the server's artifact or database volume and try again.",
        RESOURCE_EXHAUSTED,
    )
    return error_body(error)


EXCEPTION_HANDLERS = {
    MlflowException: mlflow_error,
    PayloadTooLarge: too_large,
    UploadTooLarge: too_large,
}
