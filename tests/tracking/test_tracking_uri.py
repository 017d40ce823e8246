"""Which store calls go to: argument, set_tracking_uri, MLFLOW_TRACKING_URI, default file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.exceptions import MlflowException


def test_default_is_tracklet_db_in_working_directory(tmp_path: Path) -> None:
    assert mlflow.get_tracking_uri() == f"sqlite:///{tmp_path / 'tracklet.db'}"
    with mlflow.start_run():
        mlflow.log_metric("m", 1.0)
    assert (tmp_path / "tracklet.db").exists()
    assert not (tmp_path / "mlflow.db").exists()


def test_precedence(tmp_path: Path) -> None:
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp_path / 'env.db'}"
    assert mlflow.get_tracking_uri().endswith("env.db")
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'set.db'}")
    assert mlflow.get_tracking_uri().endswith("set.db")
    assert os.environ["MLFLOW_TRACKING_URI"].endswith("set.db")  # exported for subprocesses
    client = MlflowClient(f"sqlite:///{tmp_path / 'arg.db'}")
    assert client.tracking_uri.endswith("arg.db")
    client.create_experiment("only-in-arg")
    assert (tmp_path / "arg.db").exists()
    assert mlflow.get_experiment_by_name("only-in-arg") is None


@pytest.mark.parametrize("uri", ["/tmp/mlruns", "mlruns", "file:///tmp/mlruns", "./x"])
def test_plain_paths_are_refused(uri: str) -> None:
    with pytest.raises(MlflowException) as error:
        mlflow.set_tracking_uri(uri)
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "plain path" in error.value.message
    assert "sqlite:///" in error.value.message


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(MlflowException, match="Unsupported tracking URI 'gopher://x'"):
        mlflow.set_tracking_uri("gopher://x")


def test_postgres_uri(postgres_uri: str) -> None:
    mlflow.set_tracking_uri(postgres_uri)
    with mlflow.start_run() as run:
        mlflow.log_metric("m", 2.0)
    assert mlflow.get_run(run.info.run_id).data.metrics == {"m": 2.0}
