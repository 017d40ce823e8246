"""Protocol behaviour every endpoint shares: routing, content types, error bodies, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tracklet.wire import endpoints as ep


def _error(response: Any) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body: dict[str, Any] = response.json()
    assert {"error_code", "message"} <= set(body)
    return body


def _call(client: Any, endpoint: ep.Endpoint, path: str, fields: dict[str, Any]) -> Any:
    if endpoint.method == "GET":
        return client.get(path, params=fields)
    return client.request(endpoint.method, path, json=fields)


REQUIRED = [
    (endpoint, path, next(f.name for f in endpoint.fields if f.required))
    for endpoint in ep.TRACKING_ENDPOINTS
    if any(f.required for f in endpoint.fields)
    for path in endpoint.route_paths()
]


@pytest.mark.parametrize(
    ("endpoint", "path", "field"), REQUIRED, ids=[f"{e.name}:{p}" for e, p, _ in REQUIRED]
)
def test_missing_required_field_is_mlflows_400(
    client: Any, endpoint: ep.Endpoint, path: str, field: str
) -> None:
    response = _call(client, endpoint, path, {})
    assert response.status_code == 400
    assert _error(response) == {
        "error_code": "INVALID_PARAMETER_VALUE",
        "message": f"Missing value for required parameter '{field}'. See the API docs for more "
        "information about request parameters.",
        "sqlstate": "KAM00",
        "error_class": "INVALID_PARAMETER_VALUE",
    }


def test_unknown_route_is_a_plain_404(client: Any) -> None:
    for path in ("/api/2.0/mlflow/nope", "/api/3.0/mlflow/experiments/get", "/nope"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")


def test_wrong_method_is_405(client: Any) -> None:
    assert client.get("/api/2.0/mlflow/runs/create").status_code == 405


def test_ajax_prefix_serves_the_same_rpcs(client: Any) -> None:
    response = client.get("/ajax-api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
    assert response.json()["experiment"]["name"] == "Default"


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Bad Request. Content-Type header is missing."),
        (
            {"content-type": "text/plain"},
            "Bad Request. Content-Type must be one of ['application/json'].",
        ),
    ],
)
def test_post_needs_json_content_type(client: Any, headers: dict[str, str], message: str) -> None:
    response = client.post(
        "/api/2.0/mlflow/experiments/create", content=b'{"name": "x"}', headers=headers
    )
    assert response.status_code == 400
    assert _error(response)["message"] == message


def test_json_with_charset_and_double_encoding_are_accepted(client: Any) -> None:
    response = client.post(
        "/api/2.0/mlflow/experiments/create",
        content=json.dumps(json.dumps({"name": "twice", "unknown": 1})).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.json()["experiment_id"] == "1"


def test_body_over_the_limit_is_413(client: Any, run_id: str) -> None:
    big = {"run_id": run_id, "params": [{"key": "p", "value": "x" * (2 * 1024 * 1024)}]}
    response = client.post("/api/2.0/mlflow/runs/log-batch", json=big)
    assert response.status_code == 413
    assert "--max-request-size" in _error(response)["message"]


def test_health_version_server_info(client: Any) -> None:
    assert client.get("/health").text == "OK"
    assert client.get("/version").text == "3.17.2"
    info = client.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False  # a local destination: plain PUT/GET
    assert info["store_type"] == "SqlStore"


def test_foreign_host_is_refused_except_for_health(client: Any) -> None:
    response = client.get(
        "/api/2.0/mlflow/experiments/get",
        params={"experiment_id": "0"},
        headers={"host": "evil.example.com"},
    )
    assert response.status_code == 403
    assert "DNS rebinding" in response.text
    assert client.get("/health", headers={"host": "evil.example.com"}).status_code == 200
    for host in ("localhost:5000", "127.0.0.1", "[::1]:80"):
        assert client.get("/version", headers={"host": host}).status_code == 200
        ok = client.get(
            "/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}, headers={"host": host}
        )
        assert ok.status_code == 200


def test_foreign_origin_cannot_write(client: Any) -> None:
    headers = {"origin": "https://evil.example.com"}
    response = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "x"}, headers=headers
    )
    assert response.status_code == 403
    assert response.text == "Cross-origin request blocked"
    local = client.post(
        "/api/2.0/mlflow/experiments/create",
        json={"name": "x"},
        headers={"origin": "http://localhost:3000"},
    )
    assert local.status_code == 200
    assert local.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_security_headers(client: Any) -> None:
    response = client.get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


def test_user_errors_are_never_5xx(client: Any, run_id: str) -> None:
    response = client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "abc"})
    assert response.status_code == 400
    bad = [
        ("/api/2.0/mlflow/experiments/search", {"max_results": 0}),
        ("/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "max_results": 50001}),
        ("/api/2.0/mlflow/runs/update", {"run_id": run_id, "status": "BOGUS"}),
        (
            "/api/2.0/mlflow/runs/log-metric",
            {"run_id": run_id, "key": "../x", "value": 1, "timestamp": 1},
        ),
        (
            "/api/2.0/mlflow/runs/log-metric",
            {"run_id": run_id, "key": "k", "value": 1, "timestamp": -1},
        ),
        ("/api/2.0/mlflow/runs/log-parameter", {"run_id": run_id, "key": "k", "value": 3}),
        ("/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"], "page_token": "garbage"}),
        ("/api/2.0/mlflow/runs/log-model", {"run_id": run_id, "model_json": "{"}),
    ]
    for path, body in bad:
        response = client.post(path, json=body)
        assert response.status_code == 400, (path, response.text)
        assert _error(response)["error_code"] == "INVALID_PARAMETER_VALUE"


def test_static_prefix_serves_everything_under_it(tmp_path: Any) -> None:
    from starlette.testclient import TestClient

    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    settings = ServerSettings(
        f"sqlite:///{tmp_path / 's.db'}",
        static_prefix="/mlflow",
        artifacts_destination=str(tmp_path / "art"),
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get("/mlflow/health").text == "OK"
        assert client.get("/health").status_code == 404
        got = client.get("/mlflow/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
        assert got.json()["experiment"]["name"] == "Default"
        assert (
            client.put("/mlflow/api/2.0/mlflow-artifacts/artifacts/a.txt", content=b"a").status_code
            == 200
        )
        assert (
            client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}).status_code
            == 404
        )
