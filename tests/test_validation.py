"""MLflow's input checks: every message names the field and, where one applies, the limit."""

from __future__ import annotations

import math

import pytest

from tracklet import validation
from tracklet.exceptions import MlflowException


@pytest.mark.parametrize(
    "key", ["loss", "a/b", "val acc", "x:y", "a-b_c.d", "é", "a" * 250, "1", "m/ 2"]
)
def test_valid_keys(key: str) -> None:
    assert validation.validate_key(key) == key


@pytest.mark.parametrize(
    ("key", "fragment"),
    [
        ("bad!", "Names may only contain"),
        ("a//b", "resolve to 'a/b'"),
        ("a/./b", "resolve to"),
        ("../a", "resolve to"),
        ("/a", "resolve to"),
        ("a/", "resolve to"),
        (".", "resolve to"),
        ("a" * 251, "250"),
        ("", "Missing value"),
        (None, "Missing value"),
        (3, "must be a string"),
    ],
)
def test_invalid_keys(key: object, fragment: str) -> None:
    with pytest.raises(MlflowException) as error:
        validation.validate_key(key, "metrics[0].key")
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert fragment in error.value.message
    assert "metrics[0].key" in error.value.message


def test_metric_values() -> None:
    assert validation.validate_metric_value("m", 1, 0) == 1.0
    assert math.isnan(validation.validate_metric_value("m", math.nan, 0))
    assert validation.validate_metric_value("m", 10**400, 0) == math.inf
    for bad in ("1.0", True, None, [1], complex(1, 1)):
        with pytest.raises(MlflowException, match="value"):
            validation.validate_metric_value("m", bad, 0)


def test_steps_and_timestamps() -> None:
    assert validation.validate_step("m", -(2**63)) == -(2**63)
    assert validation.validate_step("m", 3.0) == 3
    for bad in (2**63, 1.5, "3", True, math.inf):
        with pytest.raises(MlflowException, match="step"):
            validation.validate_step("m", bad)
    assert validation.validate_timestamp("m", 0) == 0
    for bad in (-1, "5", math.nan, 2**63):
        with pytest.raises(MlflowException, match="timestamp"):
            validation.validate_timestamp("m", bad)


def test_batch_limits_name_the_limit() -> None:
    validation.validate_batch_limits(1000, 0, 0)
    with pytest.raises(MlflowException, match=r"at most 1000 metrics\. Got 1001"):
        validation.validate_batch_limits(1001, 0, 0)
    with pytest.raises(MlflowException, match="at most 100 params"):
        validation.validate_batch_limits(0, 101, 0)
    with pytest.raises(MlflowException, match="at most 1000 metrics, params, and tags"):
        validation.validate_batch_limits(900, 100, 1)


def test_experiment_ids_and_max_results() -> None:
    assert validation.parse_experiment_id("12") == 12
    for bad in ("abc", "1.5", "", True):
        with pytest.raises(MlflowException, match="Experiment ID"):
            validation.parse_experiment_id(bad)
    assert validation.validate_max_results(50000) == 50000
    with pytest.raises(MlflowException, match="at most 50000"):
        validation.validate_max_results(50001)
    with pytest.raises(MlflowException, match="positive"):
        validation.validate_max_results(0)
