"""Numeric strings as metric values: accepted and converted as MLflow 3.17.2's client does."""

from __future__ import annotations

import math

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.entities import Metric
from tracklet.exceptions import MlflowException
from tracklet.validation import numeric_string_to_float

VALUES: list[object] = ["0.9", " 1e3 ", "nan", "-Infinity", "1_000", b"2.5", "0x10", "abc", ""]


def test_conversion_matches_mlflow() -> None:
    from mlflow.tracking.metric_value_conversion_utils import (
        convert_metric_value_to_float_if_possible as mlflow_convert,
    )

    for value in VALUES:
        ours, theirs = numeric_string_to_float(value), mlflow_convert(value)
        assert type(ours) is type(theirs), value
        if isinstance(theirs, float) and math.isnan(theirs):
            assert isinstance(ours, float)
            assert math.isnan(ours)
        else:
            assert ours == theirs, value


@pytest.mark.parametrize("synchronous", [True, False])
def test_log_metric_metrics_and_batch_accept_numeric_strings(
    sqlite_uri: str, synchronous: bool
) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    client = MlflowClient()
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        mlflow.log_metric("acc", "0.9", step=1, synchronous=synchronous)
        mlflow.log_metrics({"loss": " 1e-2 ", "n": b"3"}, synchronous=synchronous)
        client.log_batch(run_id, metrics=[Metric("f1", "0.5", 7, 2)], synchronous=synchronous)
        mlflow.flush_async_logging()
    metrics = mlflow.get_run(run_id).data.metrics
    assert metrics == {"acc": 0.9, "loss": 0.01, "n": 3.0, "f1": 0.5}
    assert [(m.value, m.step, m.timestamp) for m in client.get_metric_history(run_id, "f1")] == [
        (0.5, 2, 7)
    ]


def test_non_numeric_strings_are_refused_naming_the_value(sqlite_uri: str) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    client = MlflowClient()
    with mlflow.start_run() as run:
        with pytest.raises(MlflowException, match="Invalid value 'abc' for parameter 'value'") as e:
            mlflow.log_metric("acc", "abc")
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
        with pytest.raises(MlflowException, match="valid double") as e:
            mlflow.log_metrics({"good": "1", "bad": "0x10"})
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
        with pytest.raises(MlflowException, match=r"metrics\[1\]\.value"):
            client.log_batch(
                run.info.run_id, metrics=[Metric("a", "1", 0, 0), Metric("b", "", 0, 0)]
            )
    assert mlflow.get_run(run.info.run_id).data.metrics == {}
