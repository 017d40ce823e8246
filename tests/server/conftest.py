"""An in-process server per test: the ASGI app on a fresh SQLite store, called without a socket."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette prefers httpx2; httpx is what we have
    from starlette.testclient import TestClient


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    return ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
        max_request_bytes=1024 * 1024,
        max_artifact_bytes=4 * 1024 * 1024,
    )


@pytest.fixture
def client(settings: ServerSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://localhost") as test_client:
        yield test_client


@pytest.fixture
def run_id(client: TestClient) -> str:
    response = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    assert response.status_code == 200, response.text
    run_id: str = response.json()["run"]["info"]["run_id"]
    return run_id


def error_of(response: Any) -> tuple[int, str]:
    """(status, error_code) of an error response, checking it is MLflow's JSON error shape."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) >= {"error_code", "message"}
    return response.status_code, body["error_code"]
