"""tracklet's one exception type and the one error-code -> HTTP status table.

Hierarchy::

    Exception
     └── MlflowException (alias TrackletException)   .error_code: MLflow's code name
          └── RestException                            raised from an error body received over HTTP

Error codes are MLflow's ``databricks.proto`` ``ErrorCode`` names, kept as strings so that
``except MlflowException as e: e.error_code == "RESOURCE_DOES_NOT_EXIST"`` works as in MLflow.
"""

from __future__ import annotations

from typing import Any

INTERNAL_ERROR = "INTERNAL_ERROR"
TEMPORARILY_UNAVAILABLE = "TEMPORARILY_UNAVAILABLE"
IO_ERROR = "IO_ERROR"
BAD_REQUEST = "BAD_REQUEST"
INVALID_STATE = "INVALID_STATE"
INVALID_PARAMETER_VALUE = "INVALID_PARAMETER_VALUE"
ENDPOINT_NOT_FOUND = "ENDPOINT_NOT_FOUND"
MALFORMED_REQUEST = "MALFORMED_REQUEST"
RESOURCE_DOES_NOT_EXIST = "RESOURCE_DOES_NOT_EXIST"
RESOURCE_ALREADY_EXISTS = "RESOURCE_ALREADY_EXISTS"
RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
RESOURCE_EXHAUSTED = "RESOURCE_EXHAUSTED"
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
NOT_FOUND = "NOT_FOUND"
ALREADY_EXISTS = "ALREADY_EXISTS"
ABORTED = "ABORTED"
PERMISSION_DENIED = "PERMISSION_DENIED"
CUSTOMER_UNAUTHORIZED = "CUSTOMER_UNAUTHORIZED"
UNAUTHENTICATED = "UNAUTHENTICATED"
CANCELLED = "CANCELLED"
NOT_IMPLEMENTED = "NOT_IMPLEMENTED"
DEADLINE_EXCEEDED = "DEADLINE_EXCEEDED"
DATA_LOSS = "DATA_LOSS"
FEATURE_DISABLED = "FEATURE_DISABLED"

# MLflow's ERROR_CODE_TO_HTTP_STATUS (spec §5.2); every code not listed is a 500.
_HTTP_STATUS: dict[str, int] = {
    INVALID_PARAMETER_VALUE: 400,
    RESOURCE_ALREADY_EXISTS: 400,
    BAD_REQUEST: 400,
    MALFORMED_REQUEST: 400,
    UNAUTHENTICATED: 401,
    CUSTOMER_UNAUTHORIZED: 401,
    PERMISSION_DENIED: 403,
    RESOURCE_DOES_NOT_EXIST: 404,
    NOT_FOUND: 404,
    ENDPOINT_NOT_FOUND: 404,
    ABORTED: 409,
    RESOURCE_CONFLICT: 409,
    ALREADY_EXISTS: 409,
    REQUEST_LIMIT_EXCEEDED: 429,
    RESOURCE_EXHAUSTED: 429,
    CANCELLED: 499,
    INTERNAL_ERROR: 500,
    INVALID_STATE: 500,
    DATA_LOSS: 500,
    NOT_IMPLEMENTED: 501,
    TEMPORARILY_UNAVAILABLE: 503,
    DEADLINE_EXCEEDED: 504,
}

# The reverse direction, used when an error body is not JSON (spec §5.1).
_CODE_FOR_STATUS: dict[int, str] = {
    400: BAD_REQUEST,
    401: UNAUTHENTICATED,
    403: PERMISSION_DENIED,
    404: ENDPOINT_NOT_FOUND,
    409: ALREADY_EXISTS,
    429: RESOURCE_EXHAUSTED,
    499: CANCELLED,
    500: INTERNAL_ERROR,
    501: NOT_IMPLEMENTED,
    503: TEMPORARILY_UNAVAILABLE,
    504: DEADLINE_EXCEEDED,
}

# (sqlstate, error_class) that MLflow 3.x adds to error bodies (spec §5.3).
_ERROR_CLASS: dict[str, tuple[str, str]] = {
    INVALID_PARAMETER_VALUE: ("KAM00", "INVALID_PARAMETER_VALUE"),
    BAD_REQUEST: ("KAM00", "INVALID_PARAMETER_VALUE"),
    RESOURCE_DOES_NOT_EXIST: ("KAM00", "RESOURCE_NOT_FOUND"),
    NOT_FOUND: ("KAM00", "RESOURCE_NOT_FOUND"),
    ENDPOINT_NOT_FOUND: ("KAM00", "RESOURCE_NOT_FOUND"),
    RESOURCE_ALREADY_EXISTS: ("KAM00", "RESOURCE_ALREADY_EXISTS"),
    PERMISSION_DENIED: ("KAM00", "PERMISSION_DENIED"),
    CUSTOMER_UNAUTHORIZED: ("KAM00", "PERMISSION_DENIED"),
    INTERNAL_ERROR: ("XXM00", "CLIENT_INTERNAL_ERROR"),
    INVALID_STATE: ("XXM00", "CLIENT_INTERNAL_ERROR"),
    TEMPORARILY_UNAVAILABLE: ("XXM00", "CLIENT_INTERNAL_ERROR"),
    FEATURE_DISABLED: ("KAM00", "FEATURE_DISABLED"),
}


def http_status_for(error_code: str) -> int:
    """The HTTP status MLflow's server answers with for ``error_code``."""
    return _HTTP_STATUS.get(error_code, 500)


def error_code_for_status(status: int) -> str:
    """The error code MLflow's client derives from a non-JSON error response."""
    return _CODE_FOR_STATUS.get(status, INTERNAL_ERROR)


class MlflowException(Exception):
    """The exception every tracklet API raises, carrying MLflow's ``error_code``.

    Args:
        message: What went wrong (stringified).
        error_code: MLflow's error code name, e.g. ``"RESOURCE_DOES_NOT_EXIST"``; it sets the
            HTTP status a server answers with. ``INTERNAL_ERROR`` by default.
        kwargs: More fields for the JSON error body.

    Example::

        try:
            tracklet.get_run("no-such-run")
        except tracklet.MlflowException as e:
            assert e.error_code == "RESOURCE_DOES_NOT_EXIST"
    """

    def __init__(self, message: object, error_code: str = INTERNAL_ERROR, **kwargs: Any) -> None:
        self.message = str(message)
        self.error_code = error_code if isinstance(error_code, str) else INTERNAL_ERROR
        self.json_kwargs = kwargs
        super().__init__(self.message)

    @classmethod
    def invalid_parameter_value(cls, message: str, **kwargs: Any) -> MlflowException:
        return cls(message, error_code=INVALID_PARAMETER_VALUE, **kwargs)

    def get_http_status_code(self) -> int:
        return http_status_for(self.error_code)

    def to_json_dict(self) -> dict[str, Any]:
        """MLflow's error body: ``error_code`` and ``message`` plus sqlstate/error_class."""
        body: dict[str, Any] = {"error_code": self.error_code, "message": self.message}
        if self.error_code in _ERROR_CLASS:
            body["sqlstate"], body["error_class"] = _ERROR_CLASS[self.error_code]
        body.update(self.json_kwargs)
        return body

    def serialize_as_json(self) -> str:
        import json

        return json.dumps(self.to_json_dict())


class RestException(MlflowException):
    """An error reported by a tracking server in MLflow's JSON error format."""

    def __init__(self, json: dict[str, Any]) -> None:
        code = str(json.get("error_code", INTERNAL_ERROR))
        message = str(json.get("message", ""))
        super().__init__(f"{code}: {message}" if message else code, error_code=code)
        self.json = json


TrackletException = MlflowException

__all__ = [
    "MlflowException",
    "RestException",
    "TrackletException",
    "error_code_for_status",
    "http_status_for",
]
