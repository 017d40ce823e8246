"""The model registry against MLflow 3.17.2: one scenario (``registry_scenario``) run by MLflow's
client on a real ``mlflow server`` is the oracle; tracklet's client on SQLite and PostgreSQL
stores must give the same entities, orders, pages and error codes."""

from __future__ import annotations

import os
import time
import warnings
from typing import Any

import pytest
from tests.compat.conftest import QUIET_MLFLOW, LiveServer
from tests.compat.registry_scenario import run_scenario

import tracklet

pytestmark = pytest.mark.xdist_group("mlflow_server")

SOURCE = "s3://bucket/models"


def _prefix() -> str:
    return f"r{time.monotonic_ns()}-"


def _normalized(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The result with the run's name prefix taken out, so two runs compare equal."""
    import json

    return dict(json.loads(json.dumps(result).replace(prefix, "P-")))


@pytest.fixture(scope="module")
def oracle(mlflow_server: LiveServer) -> dict[str, Any]:
    """The scenario as MLflow's client and server run it."""
    os.environ.update(QUIET_MLFLOW)
    import mlflow

    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(mlflow.MlflowClient(mlflow_server.url), prefix, SOURCE)
    return _normalized(result, prefix)


def _compare(ours: dict[str, Any], oracle: dict[str, Any]) -> None:
    assert ours.keys() == oracle.keys()
    for key in ours:
        assert ours[key] == oracle[key], key


def test_tracklet_store_matches_mlflow(store_uri: str, oracle: dict[str, Any]) -> None:
    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours = run_scenario(tracklet.MlflowClient(store_uri), prefix, SOURCE)
    _compare(_normalized(ours, prefix), oracle)


def test_tracklet_client_over_http_matches_mlflow(
    any_server: LiveServer, oracle: dict[str, Any]
) -> None:
    # tracklet's RestStore against tracklet's server and against MLflow's.
    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        ours = run_scenario(tracklet.MlflowClient(any_server.url), prefix, SOURCE)
    _compare(_normalized(ours, prefix), oracle)


def test_mlflow_client_against_tracklet_server_matches_mlflow(
    tracklet_server: LiveServer, oracle: dict[str, Any]
) -> None:
    os.environ.update(QUIET_MLFLOW)
    import mlflow

    prefix = _prefix()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run_scenario(mlflow.MlflowClient(tracklet_server.url), prefix, SOURCE)
    _compare(_normalized(result, prefix), oracle)


def _post(url: str, path: str, body: dict[str, Any], method: str = "POST") -> tuple[int, Any]:
    import httpx

    response = httpx.request(method, f"{url}/api/2.0/mlflow/{path}", json=body)
    return response.status_code, response.json()


def test_error_bodies_match_mlflow(tracklet_server: LiveServer, mlflow_server: LiveServer) -> None:
    found = {}
    for server in (tracklet_server, mlflow_server):
        name = _prefix()
        _post(server.url, "registered-models/create", {"name": name})
        calls = {
            "duplicate": ("registered-models/create", {"name": name}, "POST"),
            "missing": ("registered-models/get", {"name": f"{name}x"}, "GET"),
            "missing_version": ("model-versions/get", {"name": name, "version": "7"}, "GET"),
            "no_name": ("registered-models/create", {}, "POST"),
            "bad_stage": (
                "model-versions/transition-stage",
                {"name": name, "version": "1", "stage": "nope"},
                "POST",
            ),
            "local_source": (
                "model-versions/create",
                {"name": name, "source": "/etc"},
                "POST",
            ),
            "relative_source": (
                "model-versions/create",
                {"name": name, "source": "s3://b/x/../../y"},
                "POST",
            ),
            "runs_source_without_run": (
                "model-versions/create",
                {"name": name, "source": "runs:/0123456789abcdef0123456789abcdef/m"},
                "POST",
            ),
        }
        results = {}
        for key, (path, body, method) in calls.items():
            if method == "GET":
                import httpx

                response = httpx.get(f"{server.url}/api/2.0/mlflow/{path}", params=body)
                status, payload = response.status_code, response.json()
            else:
                status, payload = _post(server.url, path, body, method)
            results[key] = (status, payload["error_code"])
            assert name in payload["message"] or key in (
                "no_name", "bad_stage", "local_source", "relative_source",
                "runs_source_without_run", "missing_version",
            ) or f"{name}x" in payload["message"]  # fmt: skip
        found[server.kind] = results
    assert found["tracklet"] == found["mlflow"]
    assert found["tracklet"]["duplicate"] == (400, "RESOURCE_ALREADY_EXISTS")
    assert found["tracklet"]["missing"] == (404, "RESOURCE_DOES_NOT_EXIST")


def test_mlflow_registers_and_loads_models_uris(tracklet_server: LiveServer) -> None:
    """MLflow's own log_model(registered_model_name=...) and pyfunc.load_model of every
    models:/ form, against tracklet's server."""
    os.environ.update(QUIET_MLFLOW)
    import mlflow
    import pandas as pd

    class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[name-defined,misc]
        def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
            return model_input * 2

    name = _prefix()
    mlflow.set_tracking_uri(tracklet_server.url)
    mlflow.set_experiment(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mlflow.start_run():
            info = mlflow.pyfunc.log_model(
                name="model", python_model=Doubler(), registered_model_name=name
            )
        assert str(info.registered_model_version) == "1"  # "1" over REST, as MLflow gives it
        client = mlflow.MlflowClient()
        client.set_registered_model_alias(name, "champion", "1")
        frame = pd.DataFrame({"x": [1.0, 2.0]})
        for uri in (f"models:/{name}/1", f"models:/{name}@champion", f"models:/{name}/latest"):
            loaded = mlflow.pyfunc.load_model(uri)
            assert loaded.predict(frame)["x"].tolist() == [2.0, 4.0], uri
        # tracklet's client and pyfunc read the same URIs from the same server.
        ours = tracklet.pyfunc.load_model(f"models:/{name}@champion")
        assert ours.predict(frame)["x"].tolist() == [2.0, 4.0]
        version = tracklet.MlflowClient(tracklet_server.url).get_model_version(name, "1")
        assert version.model_id == info.model_id
    import httpx

    response = httpx.get(
        f"{tracklet_server.url}/model-versions/get-artifact",
        params={"name": name, "version": "1", "path": "MLmodel"},
    )
    assert response.status_code == 200
    assert b"python_function" in response.content
