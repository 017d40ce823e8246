"""``import tracklet as mlflow`` pointed at tracklet's server (http tracking URI): runs get
``mlflow-artifacts:`` roots, and artifacts and models travel through the server's proxy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tracklet as mlflow
from tracklet import MlflowClient
from tracklet.entities import FileInfo, LoggedModelStatus
from tracklet.exceptions import MlflowException

from .conftest import LiveServer, tree_of


def test_fluent_artifacts_through_the_server(
    live_server: LiveServer, sample_dir: Path, tmp_path: Path
) -> None:
    mlflow.set_tracking_uri(live_server.url)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(sample_dir), "data")
        mlflow.log_artifact(str(sample_dir / "a.txt"))
        mlflow.log_text("hello", "notes/readme.txt")
        mlflow.log_dict({"k": 1}, "cfg.yaml")
        artifact_uri = mlflow.get_artifact_uri()
    run_id = run.info.run_id
    experiment_id = run.info.experiment_id
    assert artifact_uri == f"mlflow-artifacts:/{experiment_id}/{run_id}/artifacts"
    on_disk = live_server.destination / experiment_id / run_id / "artifacts"
    assert tree_of(on_disk / "data") == tree_of(sample_dir)
    assert (on_disk / "notes" / "readme.txt").read_text() == "hello"

    client = MlflowClient()
    assert client.list_artifacts(run_id) == [
        FileInfo("a.txt", False, 6),
        FileInfo("cfg.yaml", False, 5),
        FileInfo("data", True, None),
        FileInfo("notes", True, None),
    ]
    dst = tmp_path / "dst"
    dst.mkdir()
    assert tree_of(Path(client.download_artifacts(run_id, "data", str(dst)))) == tree_of(sample_dir)
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes/readme.txt") == "hello"
    assert mlflow.artifacts.load_dict(f"{artifact_uri}/cfg.yaml") == {"k": 1}
    for probe in ("../../x", "%2e%2e/%2e%2e/x", "/etc/passwd"):
        with pytest.raises(MlflowException) as e:
            client.download_artifacts(run_id, probe, str(dst))
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"


def test_sklearn_model_through_the_server(live_server: LiveServer) -> None:
    from sklearn.linear_model import LinearRegression

    mlflow.set_tracking_uri(live_server.url)
    x = pd.DataFrame({"u": np.arange(10.0), "v": np.arange(10.0) ** 2})
    y = 3 * x["u"] - x["v"]
    model = LinearRegression().fit(x, y)
    with mlflow.start_run() as run:
        mlflow.log_param("alpha", 0)
        info = mlflow.sklearn.log_model(
            model, name="lin", serialization_format="cloudpickle", input_example=x.head(2)
        )
    logged = mlflow.get_logged_model(info.model_id)
    assert logged.status == LoggedModelStatus.READY
    assert logged.params == {"alpha": "0"}
    assert logged.artifact_location == (
        f"mlflow-artifacts:/{run.info.experiment_id}/models/{info.model_id}/artifacts"
    )
    stored = live_server.destination / run.info.experiment_id / "models" / info.model_id
    assert (stored / "artifacts" / "MLmodel").exists()
    assert np.allclose(mlflow.pyfunc.load_model(info.model_uri).predict(x), model.predict(x))
    assert np.allclose(mlflow.sklearn.load_model(info.model_uri).predict(x), model.predict(x))
