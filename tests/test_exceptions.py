"""The one exception type and MLflow's error-code -> HTTP status table (spec §5.2)."""

from __future__ import annotations

import json

import pytest

from tracklet.exceptions import (
    MlflowException,
    RestException,
    error_code_for_status,
    http_status_for,
)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("INVALID_PARAMETER_VALUE", 400),
        ("RESOURCE_ALREADY_EXISTS", 400),
        ("BAD_REQUEST", 400),
        ("UNAUTHENTICATED", 401),
        ("PERMISSION_DENIED", 403),
        ("RESOURCE_DOES_NOT_EXIST", 404),
        ("ENDPOINT_NOT_FOUND", 404),
        ("ABORTED", 409),
        ("RESOURCE_EXHAUSTED", 429),
        ("INVALID_STATE", 500),
        ("NOT_IMPLEMENTED", 501),
        ("TEMPORARILY_UNAVAILABLE", 503),
        ("DEADLINE_EXCEEDED", 504),
        ("SOMETHING_ELSE", 500),
    ],
)
def test_http_status(code: str, status: int) -> None:
    assert http_status_for(code) == status
    assert MlflowException("x", code).get_http_status_code() == status


def test_error_body_matches_mlflow() -> None:
    error = MlflowException("Run with id=abc not found", "RESOURCE_DOES_NOT_EXIST")
    assert json.loads(error.serialize_as_json()) == {
        "error_code": "RESOURCE_DOES_NOT_EXIST",
        "message": "Run with id=abc not found",
        "sqlstate": "KAM00",
        "error_class": "RESOURCE_NOT_FOUND",
    }
    assert MlflowException("x", "NOT_IMPLEMENTED").to_json_dict() == {
        "error_code": "NOT_IMPLEMENTED",
        "message": "x",
    }
    assert MlflowException.invalid_parameter_value("bad").error_code == "INVALID_PARAMETER_VALUE"


def test_status_to_code_for_non_json_errors() -> None:
    assert error_code_for_status(404) == "ENDPOINT_NOT_FOUND"
    assert error_code_for_status(418) == "INTERNAL_ERROR"


def test_rest_exception() -> None:
    error = RestException({"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "gone"})
    assert isinstance(error, MlflowException)
    assert error.error_code == "RESOURCE_DOES_NOT_EXIST"
    assert str(error) == "RESOURCE_DOES_NOT_EXIST: gone"
