"""RPC endpoints at fixed paths are called straight from the server middleware (no exception
middleware, router or route between): errors still become MLflow's bodies, other methods 405,
and with authentication on every request still passes its gate."""

from __future__ import annotations

from typing import Any

from tests.server.conftest import error_of

from tracklet.server.app import all_routes
from tracklet.server.errors import EXCEPTION_HANDLERS
from tracklet.server.router import DirectRpc
from tracklet.server.rpc import RpcApp

LOG_BATCH = "/api/2.0/mlflow/runs/log-batch"


def test_fixed_rpc_paths_are_found_by_method() -> None:
    direct = DirectRpc(all_routes(), EXCEPTION_HANDLERS)
    assert isinstance(direct.find(LOG_BATCH, "POST"), RpcApp)
    assert isinstance(direct.find("/api/2.0/mlflow/runs/get", "GET"), RpcApp)
    assert direct.find(LOG_BATCH, "GET") is None  # the router answers: 405
    assert direct.find("/api/2.0/mlflow/no-such-thing", "POST") is None
    assert direct.find("/health", "GET") is None  # not an RPC


def test_errors_on_the_direct_path_are_mlflows(client: Any, run_id: str) -> None:
    point = {"key": "loss", "value": 0.5, "timestamp": 1, "step": 0}
    response = client.post(LOG_BATCH, json={"metrics": [point]})  # no run_id
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    assert "run_id" in response.json()["message"]
    response = client.post(LOG_BATCH, json={"run_id": "0" * 32, "metrics": [point]})
    assert error_of(response) == (404, "RESOURCE_DOES_NOT_EXIST")
    response = client.post(LOG_BATCH, json={"run_id": run_id, "metrics": [{**point, "key": ""}]})
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    response = client.post(LOG_BATCH, content=b"{", headers={"content-type": "application/json"})
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    response = client.post(LOG_BATCH, content=b"{}", headers={"content-type": "text/plain"})
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    big = {"run_id": run_id, "metrics": [point] * 30_000}  # over the fixture's 1 MiB limit
    assert error_of(client.post(LOG_BATCH, json=big)) == (413, "INVALID_PARAMETER_VALUE")
    wrong = client.get(LOG_BATCH)
    assert wrong.status_code == 405
    assert wrong.headers["content-type"].startswith("text/plain")
    # and what succeeded is there, with the security headers of every response
    response = client.post(LOG_BATCH, json={"run_id": run_id, "metrics": [point]})
    assert response.status_code == 200
    assert response.json() == {}
    assert response.headers["x-content-type-options"] == "nosniff"
    history = client.get(
        "/api/2.0/mlflow/metrics/get-history", params={"run_id": run_id, "metric_key": "loss"}
    )
    assert [m["value"] for m in history.json()["metrics"]] == [0.5]
