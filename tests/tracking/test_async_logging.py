"""Asynchronous logging: queued, batched, flushed by end_run / flush_async_logging / exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.exceptions import MlflowException


def test_async_points_are_written_by_end_run(tracking_uri: str) -> None:
    with mlflow.start_run() as run:
        for step in range(3000):
            mlflow.log_metric("loss", step * 0.5, step=step, synchronous=False)
        mlflow.log_params({"a": 1}, synchronous=False)
        mlflow.set_tags({"t": "v"}, synchronous=False)
    client = MlflowClient()
    history = client.get_metric_history(run.info.run_id, "loss")
    assert list(history.steps) == list(range(3000))
    assert history[-1].value == 2999 * 0.5
    data = client.get_run(run.info.run_id).data
    assert data.params == {"a": "1"}
    assert data.tags["t"] == "v"
    assert data.metrics == {"loss": 1499.5}


def test_environment_variable_turns_async_on(tracking_uri: str) -> None:
    os.environ["MLFLOW_ENABLE_ASYNC_LOGGING"] = "true"
    with mlflow.start_run() as run:
        operation = mlflow.log_metric("m", 1.0)
        assert operation is not None
        operation.wait()
        assert MlflowClient().get_run(run.info.run_id).data.metrics == {"m": 1.0}
        assert mlflow.log_metric("n", 2.0, synchronous=True) is None


def test_flush_async_logging(tracking_uri: str) -> None:
    run = mlflow.start_run()
    client = MlflowClient()
    for i in range(100):
        client.log_metric(run.info.run_id, f"k{i % 7}", float(i), step=i, synchronous=False)
    mlflow.flush_async_logging()
    assert len(client.get_run(run.info.run_id).data.metrics) == 7
    mlflow.end_run()


def test_bad_async_input_fails_in_the_caller(tracking_uri: str) -> None:
    with mlflow.start_run():
        with pytest.raises(MlflowException) as error:
            mlflow.log_metric("bad key!", 1.0, synchronous=False)
        assert error.value.error_code == "INVALID_PARAMETER_VALUE"
        with pytest.raises(MlflowException):
            mlflow.log_metric("m", "high", synchronous=False)  # type: ignore[arg-type]


def test_write_failure_is_raised_by_wait(tracking_uri: str) -> None:
    client = MlflowClient()
    run = client.create_run("0")
    client.log_param(run.info.run_id, "p", "1")
    operation = client.log_batch(
        run.info.run_id, params=[mlflow.entities.Param("p", "2")], synchronous=False
    )
    assert operation is not None
    with pytest.raises(MlflowException, match="Changing param values is not allowed"):
        operation.wait()


def test_queued_points_are_written_at_exit(tmp_path: Path, sqlite_uri: str) -> None:
    script = tmp_path / "exit.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, tracklet as mlflow
            mlflow.set_tracking_uri(sys.argv[1])
            run = mlflow.start_run()
            for i in range(20000):
                mlflow.log_metric("m", float(i), step=i, synchronous=False)
            print(run.info.run_id)
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script), sqlite_uri], capture_output=True, text=True, check=True
    ).stdout
    client = MlflowClient(sqlite_uri)
    run_id = out.strip()
    assert len(client.get_metric_history(run_id, "m")) == 20000
    assert client.get_run(run_id).info.status == "FINISHED"
