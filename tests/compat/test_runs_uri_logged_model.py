"""Issue 18 item 1: ``runs:/<run_id>/<name>`` names the logged model ``name`` of that run.

MLflow 3's ``log_model(name=...)`` stores the files under the logged model's location, yet
``runs:/<run_id>/model`` loads it. The same scenario runs with MLflow 3.17.2 (the oracle) and
with tracklet, locally (SQLite and PostgreSQL) and through both servers; the downloads must hold
the same files under the same names and the loaded models must predict the same.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

import tracklet
import tracklet.pyfunc
import tracklet.sklearn
from tracklet.exceptions import MlflowException

X = np.array([[0.0], [1.0], [2.0], [3.0]])
Y = np.array([1.0, 3.0, 5.0, 7.0])


def _files(path: str) -> tuple[str, list[str]]:
    if os.path.isfile(path):
        return os.path.basename(path), []
    # MLflow's pyfunc loader leaves registered_model_meta in a local model's own folder.
    found = sorted(
        os.path.relpath(os.path.join(d, f), path)
        for d, _, fs in os.walk(path)
        for f in fs
        if f != "registered_model_meta"
    )
    return os.path.basename(path.rstrip("/")), found


def _scenario(module: Any, tmp: Path) -> dict[str, Any]:
    """Log a model by name, then read it back through every runs:/ entry point."""
    model = LinearRegression().fit(X, Y)
    with module.start_run() as run:
        module.sklearn.log_model(model, name="model")
    run_id = run.info.run_id
    uri = f"runs:/{run_id}/model"
    client = module.MlflowClient()
    (tmp / "c").mkdir()  # MlflowClient.download_artifacts wants an existing directory
    (tmp / "e").mkdir()
    out: dict[str, Any] = {
        "sklearn": module.sklearn.load_model(uri).predict(X).tolist(),
        "pyfunc": list(module.pyfunc.load_model(uri).predict(X)),
        "uri": _files(module.artifacts.download_artifacts(uri, dst_path=str(tmp / "a"))),
        "file": _files(
            module.artifacts.download_artifacts(f"{uri}/MLmodel", dst_path=str(tmp / "b"))
        ),
        "client": _files(client.download_artifacts(run_id, "model", str(tmp / "c"))),
        "run_id": _files(
            module.artifacts.download_artifacts(
                run_id=run_id, artifact_path="model", dst_path=str(tmp / "d")
            )
        ),
    }
    try:
        client.download_artifacts(run_id, "nothing-here", str(tmp / "e"))
    except Exception as error:  # MLflow's and tracklet's exception types differ
        out["missing"] = getattr(error, "error_code", None)
    return out


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import mlflow
    import mlflow.pyfunc
    import mlflow.sklearn

    tmp = tmp_path_factory.mktemp("oracle")
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp / 'mlflow.db'}")
    try:
        return _scenario(mlflow, tmp)
    finally:
        mlflow.set_tracking_uri(previous)


def test_runs_uri_resolves_the_logged_model_locally(
    tracking_uri: str, tmp_path: Path, oracle: dict[str, Any]
) -> None:
    tracklet.set_tracking_uri(tracking_uri)
    assert _scenario(tracklet, tmp_path) == oracle
    assert oracle["missing"] == "RESOURCE_DOES_NOT_EXIST"
    assert "MLmodel" in oracle["uri"][1]


@pytest.mark.xdist_group("mlflow_server")
def test_runs_uri_resolves_the_logged_model_through_servers(
    any_server: Any, tmp_path: Path, oracle: dict[str, Any]
) -> None:
    """tracklet's client against tracklet's and MLflow's servers answers as the oracle."""
    tracklet.set_tracking_uri(any_server.url)
    assert _scenario(tracklet, tmp_path) == oracle


def test_a_run_artifact_of_that_name_wins(tracking_uri: str, tmp_path: Path) -> None:
    """The logged model is only the fallback: a run artifact at the path is read first."""
    tracklet.set_tracking_uri(tracking_uri)
    with tracklet.start_run() as run:
        tracklet.log_text("hello", "notes/a.txt")
    local = tracklet.artifacts.download_artifacts(f"runs:/{run.info.run_id}/notes")
    assert _files(local) == ("notes", ["a.txt"])
    with pytest.raises(MlflowException) as info:
        tracklet.artifacts.download_artifacts(f"runs:/{run.info.run_id}/model")
    assert info.value.error_code == "RESOURCE_DOES_NOT_EXIST"
