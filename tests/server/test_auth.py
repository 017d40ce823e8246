"""Authentication and authorization (issue 9 item 3): ``--app-name basic-auth``."""

from __future__ import annotations

import base64
import re
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Route

from tracklet.server.app import create_app
from tracklet.server.auth.gate import EXEMPT_PATHS
from tracklet.server.auth.rules import ANY, rule_for
from tracklet.server.auth.setup import AuthNotConfigured
from tracklet.server.settings import ServerSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ADMIN = ("admin", "correct horse battery staple")


def basic(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def auth_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ServerSettings:
    monkeypatch.setenv("TRACKLET_ADMIN_USERNAME", ADMIN[0])
    monkeypatch.setenv("TRACKLET_ADMIN_PASSWORD", ADMIN[1])
    return ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
        app_name="basic-auth",
        auth_database_uri=f"sqlite:///{tmp_path / 'auth.db'}",
    )


def _client(settings: ServerSettings) -> TestClient:
    return TestClient(create_app(settings), base_url="http://localhost")


@pytest.fixture
def client(auth_settings: ServerSettings) -> Iterator[TestClient]:
    with _client(auth_settings) as test_client:
        yield test_client


def _user(client: TestClient, name: str) -> dict[str, str]:
    response = client.post(
        "/api/2.0/mlflow/users/create",
        json={"username": name, "password": f"{name}-pw"},
        headers=basic(*ADMIN),
    )
    assert response.status_code == 200, response.text
    assert response.json()["user"]["username"] == name
    return basic(name, f"{name}-pw")


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def _routes(app: Any) -> list[tuple[str, str]]:
    """Every (method, concrete path) the app serves, read from its route table."""
    found = []
    for route in app.routes:
        assert isinstance(route, Route), f"unexpected route type {route!r}"
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                found.append((method, _concrete(route.path)))
    return found


def test_a_server_without_an_admin_refuses_to_start(
    auth_settings: ServerSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRACKLET_ADMIN_PASSWORD")
    with pytest.raises(AuthNotConfigured, match="TRACKLET_ADMIN_PASSWORD"):
        create_app(auth_settings)


def test_no_route_is_reachable_without_credentials(client: TestClient) -> None:
    routes = _routes(client.app)
    assert len(routes) > 60
    wrong = basic(ADMIN[0], "wrong password")
    for method, path in routes:
        for headers in ({}, wrong, {"Authorization": "Bearer tkl_nope"}):
            response = client.request(method, path, headers=headers)
            if path in EXEMPT_PATHS:
                assert response.status_code == 200
                continue
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.headers["www-authenticate"] == 'Basic realm="mlflow"'
    # Unknown paths too: the check stands before the router.
    assert client.get("/api/2.0/mlflow/no-such-route").status_code == 401


def test_without_grants_a_user_reaches_only_open_routes(
    auth_settings: ServerSettings,
) -> None:
    """With NO_PERMISSIONS by default, every route is refused to a plain user except those
    open to any signed-in user: a route added without a rule is closed, not open."""
    settings = replace(auth_settings, auth_default_permission="NO_PERMISSIONS")
    with _client(settings) as client:
        user = _user(client, "carol")
        run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}, headers=basic(*ADMIN)
        ).json()["run"]["info"]["run_id"]
        for method, path in _routes(client.app):
            if rule_for(path, method).need == ANY or path in EXEMPT_PATHS:
                continue
            body = {"experiment_id": "0", "run_id": run, "experiment_ids": ["0"], "name": "m"}
            response = client.request(
                method,
                path,
                headers=user,
                params={"run_id": run, "experiment_id": "0"} if method == "GET" else None,
                json=body if method in ("POST", "PATCH", "DELETE") else None,
            )
            assert response.status_code == 403, (method, path, response.text)


def test_permissions_per_experiment(client: TestClient) -> None:
    admin = basic(*ADMIN)
    bob = _user(client, "bob")
    theirs = client.post("/api/2.0/mlflow/experiments/create", json={"name": "a"}, headers=admin)
    experiment = theirs.json()["experiment_id"]
    mine = client.post("/api/2.0/mlflow/experiments/create", json={"name": "b"}, headers=bob)
    own = mine.json()["experiment_id"]
    get = "/api/2.0/mlflow/experiments/get"
    create_run = "/api/2.0/mlflow/runs/create"
    # Default READ: read, not write; the creator MANAGEs their own.
    assert client.get(get, params={"experiment_id": experiment}, headers=bob).status_code == 200
    assert (
        client.post(create_run, json={"experiment_id": experiment}, headers=bob).status_code == 403
    )
    run = client.post(create_run, json={"experiment_id": own}, headers=bob).json()["run"]["info"]
    grant = "/api/3.0/mlflow/users/permissions/grant"
    edit = {"username": "bob", "resource_type": "experiment", "resource_id": experiment}
    # Bob does not manage the admin's experiment: he cannot grant himself anything on it.
    assert client.post(grant, json={**edit, "permission": "MANAGE"}, headers=bob).status_code == 403
    assert client.post(grant, json={**edit, "permission": "EDIT"}, headers=admin).status_code == 200
    created = client.post(create_run, json={"experiment_id": experiment}, headers=bob)
    assert created.status_code == 200
    deleted = client.post(
        "/api/2.0/mlflow/experiments/delete", json={"experiment_id": experiment}, headers=bob
    )
    assert deleted.status_code == 403  # EDIT does not delete
    revoke = "/api/3.0/mlflow/users/permissions/revoke"
    assert client.post(revoke, json=edit, headers=admin).status_code == 200
    assert (
        client.post(create_run, json={"experiment_id": experiment}, headers=bob).status_code == 403
    )
    hidden = {**edit, "permission": "NO_PERMISSIONS"}
    assert client.post(grant, json=hidden, headers=admin).status_code == 200
    assert client.get(get, params={"experiment_id": experiment}, headers=bob).status_code == 403
    search = "/api/2.0/mlflow/experiments/search"
    listed = client.post(search, json={"max_results": 100}, headers=bob).json()
    assert experiment not in [e["experiment_id"] for e in listed["experiments"]]
    # Run routes follow the run's experiment; artifacts follow the path's experiment.
    log = "/api/2.0/mlflow/runs/log-metric"
    point = {"run_id": run["run_id"], "key": "m", "value": 1, "timestamp": 1}
    assert client.post(log, json=point, headers=bob).status_code == 200
    proxy = "/api/2.0/mlflow-artifacts/artifacts"
    assert (
        client.put(f"{proxy}/{experiment}/r/artifacts/a", content=b"x", headers=bob).status_code
        == 403
    )
    assert client.put(f"{proxy}/{own}/r/artifacts/a", content=b"x", headers=bob).status_code == 200
    # MANAGE (the creator's) deletes.
    delete = client.post(
        "/api/2.0/mlflow/experiments/delete", json={"experiment_id": own}, headers=bob
    )
    assert delete.status_code == 200


def test_users_api(client: TestClient) -> None:
    admin = basic(*ADMIN)
    bob = _user(client, "bob")
    assert (
        client.get("/api/2.0/mlflow/users/current", headers=bob).json()["user"]["username"] == "bob"
    )
    assert client.get("/api/2.0/mlflow/users/list", headers=bob).status_code == 403
    assert (
        client.get(
            "/api/2.0/mlflow/users/get", params={"username": "admin"}, headers=bob
        ).status_code
        == 403
    )
    change = "/api/2.0/mlflow/users/update-password"
    assert (
        client.patch(change, json={"username": "bob", "password": "new"}, headers=bob).status_code
        == 400
    )
    renewed = client.patch(
        change,
        json={"username": "bob", "password": "new", "current_password": "bob-pw"},
        headers=bob,
    )
    assert renewed.status_code == 200
    assert client.get("/api/2.0/mlflow/users/current", headers=bob).status_code == 401
    bob = basic("bob", "new")
    assert client.get("/api/2.0/mlflow/users/current", headers=bob).status_code == 200
    promote = {"username": "bob", "is_admin": True}
    assert (
        client.patch("/api/2.0/mlflow/users/update-admin", json=promote, headers=bob).status_code
        == 403
    )
    assert (
        client.patch("/api/2.0/mlflow/users/update-admin", json=promote, headers=admin).status_code
        == 200
    )
    assert client.get("/api/2.0/mlflow/users/list", headers=bob).status_code == 200
    gone = client.request(
        "DELETE", "/api/2.0/mlflow/users/delete", json={"username": "bob"}, headers=admin
    )
    assert gone.status_code == 200
    assert client.get("/api/2.0/mlflow/users/current", headers=bob).status_code == 401


def test_tokens_csrf_and_one_hash_per_credential(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = _user(client, "bob")
    auth = client.app.state.tracklet_auth  # type: ignore[attr-defined]
    verified = []

    class Counting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def verify(self, *args: Any) -> Any:
            verified.append(1)
            return self.inner.verify(*args)

    monkeypatch.setattr(auth, "_hasher", Counting(auth._hasher))
    for _ in range(50):
        assert client.get("/api/2.0/mlflow/users/current", headers=bob).status_code == 200
    assert len(verified) == 1  # argon2 ran once for 50 requests
    token = client.post("/api/2.0/tracklet/users/tokens/create", headers=bob).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert (
        client.get("/api/2.0/mlflow/users/current", headers=bearer).json()["user"]["username"]
        == "bob"
    )
    cross = client.post(
        "/api/2.0/mlflow/experiments/create",
        json={"name": "csrf"},
        headers={**bob, "Sec-Fetch-Site": "cross-site"},
    )
    assert cross.status_code == 403
    assert client.post("/api/2.0/tracklet/users/tokens/revoke", headers=bob).json() == {
        "revoked": 1
    }
    assert client.get("/api/2.0/mlflow/users/current", headers=bearer).status_code == 401


def test_web_ui_data_and_version_artifacts_follow_permissions(client: TestClient) -> None:
    """The UI's series, raw points and live events, and a model version's files, are open to
    readers of the experiment (or registered model) and refused to others, not admin-only."""
    admin = basic(*ADMIN)
    carol = _user(client, "carol")
    experiment = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "ui"}, headers=admin
    ).json()["experiment_id"]
    run = client.post(
        "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment}, headers=admin
    ).json()["run"]["info"]["run_id"]
    point = {"run_id": run, "key": "loss", "value": 0.5, "timestamp": 1, "step": 0}
    assert client.post("/api/2.0/mlflow/runs/log-metric", json=point, headers=admin).is_success
    series = "/ajax-api/2.0/tracklet/metrics/series"
    body = {"series": [{"run_id": run, "key": "loss"}]}
    raw = "/ajax-api/2.0/tracklet/metrics/raw"
    # Default READ: carol reads the admin's experiment through the UI's routes.
    answer = client.post(series, json=body, headers=carol)
    assert answer.status_code == 200, answer.text
    assert answer.json()["series"][0]["key"] == "loss"
    of_run = {"run_id": run, "keys": "model"}  # a run's own keys (the UI's bootstrap)
    answer = client.post(series, json=of_run, headers=carol)
    assert answer.status_code == 200, answer.text
    assert [s["key"] for s in answer.json()["series"]] == ["loss"]
    assert client.get(raw, params={"run_id": run, "key": "loss"}, headers=carol).status_code == 200
    grant = "/api/3.0/mlflow/users/permissions/grant"
    hidden = {
        "username": "carol",
        "resource_type": "experiment",
        "resource_id": experiment,
        "permission": "NO_PERMISSIONS",
    }
    assert client.post(grant, json=hidden, headers=admin).status_code == 200
    assert client.post(series, json=body, headers=carol).status_code == 403
    assert client.post(series, json=of_run, headers=carol).status_code == 403
    assert client.get(raw, params={"run_id": run, "key": "loss"}, headers=carol).status_code == 403
    events = "/ajax-api/2.0/tracklet/events"
    assert client.get(events, params={"run_id": run}, headers=carol).status_code == 403
    assert (
        client.get(events, params={"experiment_id": experiment}, headers=carol).status_code == 403
    )
    # A model version's files follow the registered model's permission.
    client.post(
        "/api/2.0/mlflow/registered-models/create", json={"name": "m"}, headers=admin
    ).raise_for_status()
    refused = {**hidden, "resource_type": "registered_model", "resource_id": "m"}
    assert client.post(grant, json=refused, headers=admin).status_code == 200
    artifact = "/model-versions/get-artifact"
    params = {"name": "m", "version": "1", "path": "MLmodel"}
    assert client.get(artifact, params=params, headers=carol).status_code == 403
    assert client.get(artifact, params=params, headers=admin).status_code == 404
