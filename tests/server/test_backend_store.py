"""The server opens its backend through the scheme lookup with its artifact root, and asks the
store whether its calls are quick enough for the event loop (``quick_calls``)."""

from __future__ import annotations

from starlette.testclient import TestClient

from tracklet.server.rpc import ServerState


def test_the_store_gets_the_servers_artifact_root_and_says_it_is_local(
    client: TestClient,
) -> None:
    state: ServerState = client.app.state.tracklet  # type: ignore[attr-defined]
    assert state.inline_ok is True  # a SQLite file: handlers may run on the event loop
    response = client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert response.status_code == 200, response.text
    assert response.json()["experiment"]["artifact_location"] == "mlflow-artifacts:/0"
