"""Error bodies out, and back in as the exception an MLflow client would raise."""

from __future__ import annotations

import json

import pytest

from tracklet.exceptions import MlflowException, RestException
from tracklet.wire.errors import error_body, error_status, exception_from_response


def test_error_body_is_mlflows_shape() -> None:
    exc = MlflowException("Run with id=x not found", "RESOURCE_DOES_NOT_EXIST")
    assert json.loads(error_body(exc)) == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "Run with id=x not found",
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }
    assert error_status(exc) == 404


def test_json_error_becomes_rest_exception() -> None:
    exc = exception_from_response(400, b'{"error_code": "RESOURCE_ALREADY_EXISTS", "message": "m"}')
    assert isinstance(exc, RestException)
    assert exc.error_code == "RESOURCE_ALREADY_EXISTS"
    assert exc.message == "RESOURCE_ALREADY_EXISTS: m"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (404, "ENDPOINT_NOT_FOUND"),
        (503, "TEMPORARILY_UNAVAILABLE"),
        (500, "INTERNAL_ERROR"),
        (401, "UNAUTHENTICATED"),
        (418, "INTERNAL_ERROR"),
    ],
)
def test_non_json_errors_get_the_status_code(status: int, code: str) -> None:
    assert exception_from_response(status, b"<html>nope</html>").error_code == code
