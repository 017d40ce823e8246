"""Issue 9 finding 2: malformed values are 400 INVALID_PARAMETER_VALUE, never a 5xx (MLflow's
clients retry a 5xx for minutes), on SQLite and PostgreSQL, and nothing is written."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.server.conftest import error_of

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

JSON = {"content-type": "application/json"}


@pytest.fixture
def any_client(store_uri: str, tmp_path: Path) -> Iterator[TestClient]:
    """The in-process server on SQLite and on PostgreSQL; server errors answered, not raised."""
    settings = ServerSettings(
        backend_store_uri=store_uri, artifacts_destination=str(tmp_path / "mlartifacts")
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost", raise_server_exceptions=False) as client:
        yield client


def _run(client: TestClient) -> str:
    response = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"})
    run_id: str = response.json()["run"]["info"]["run_id"]
    return run_id


def _raw(client: TestClient, path: str, body: str) -> Any:
    return client.post(path, content=body.encode(), headers=JSON)


def _state(client: TestClient) -> Any:
    experiments = client.post("/api/2.0/mlflow/experiments/search", json={"max_results": 100})
    runs = client.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"]})
    return experiments.json(), runs.json()


def test_digits_in_id_and_enum_fields(any_client: TestClient) -> None:
    for value in ("²", "٣", "9" * 5000, "-" + "1" * 4400):
        _check_digits(any_client, value)


def _check_digits(any_client: TestClient, value: str) -> None:
    for response in (
        any_client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": value}),
        any_client.post(
            "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "run_view_type": value}
        ),
        any_client.get("/api/2.0/mlflow/experiments/search", params={"view_type": value}),
        any_client.post(
            "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "max_results": value}
        ),
        any_client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": value}),
    ):
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text


def test_deep_nesting_in_a_field(any_client: TestClient) -> None:
    before = _state(any_client)
    deep = "[" * 1000 + "]" * 1000
    for body in (
        '{"experiment_id":"0","tags":' + deep + "}",
        '{"experiment_id":"0","tags":[{"key":"a","value":' + deep + "}]}",
        '{"name":' + deep + "}",
    ):
        path = "/api/2.0/mlflow/" + ("experiments/create" if "name" in body else "runs/create")
        response = _raw(any_client, path, body)
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text
    assert _state(any_client) == before


def test_lone_surrogates_anywhere(any_client: TestClient) -> None:
    run_id = _run(any_client)
    before = _state(any_client)
    for escape in ("\\ud800", "\\udc00", "x\\udfff"):
        _check_surrogate(any_client, run_id, escape)
    assert _state(any_client) == before


def _check_surrogate(any_client: TestClient, run_id: str, escape: str) -> None:
    for path, body in (
        ("experiments/create", f'{{"name":"a{escape}"}}'),
        ("runs/set-tag", f'{{"run_id":"{run_id}","key":"k","value":"{escape}"}}'),
        ("runs/log-parameter", f'{{"run_id":"{run_id}","key":"k","value":"{escape}"}}'),
        ("runs/update", f'{{"run_id":"{run_id}","run_name":"{escape}"}}'),
        ("runs/search", f'{{"experiment_ids":["0"],"filter":"params.a = \'{escape}\'"}}'),
        ("runs/log-batch", f'{{"run_id":"{run_id}","tags":[{{"key":"t","value":"{escape}"}}]}}'),
        ("runs/log-model", f'{{"run_id":"{run_id}","model_json":"{{\\"a\\": 1}}{escape}"}}'),
    ):
        response = _raw(any_client, "/api/2.0/mlflow/" + path, body)
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), (path, response.text)


def test_surrogate_pairs_still_work(any_client: TestClient) -> None:
    response = _raw(any_client, "/api/2.0/mlflow/experiments/create", '{"name":"\\ud83d\\ude00"}')
    assert response.status_code == 200, response.text
    got = any_client.get(
        "/api/2.0/mlflow/experiments/get",
        params={"experiment_id": response.json()["experiment_id"]},
    )
    assert got.json()["experiment"]["name"] == "\N{GRINNING FACE}"


def test_nul_bytes_and_long_run_names(any_client: TestClient, store_uri: str) -> None:
    """PostgreSQL text holds no NUL (SQLite does, as MLflow's does); over-long run names are
    refused on both, as PostgreSQL's column would refuse them."""
    run_id = _run(any_client)
    before = _state(any_client)
    for path, body in (
        ("runs/create", {"experiment_id": "0", "run_name": "x" * 251}),
        ("runs/update", {"run_id": run_id, "run_name": "x" * 251}),
        ("runs/set-tag", {"run_id": run_id, "key": "mlflow.runName", "value": "x" * 251}),
    ):
        response = any_client.post("/api/2.0/mlflow/" + path, json=body)
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text
        assert "run_name" in response.json()["message"]
    assert _state(any_client) == before
    nul = [
        ("experiments/create", {"name": "a\x00b"}),
        ("runs/set-tag", {"run_id": run_id, "key": "k", "value": "a\x00b"}),
        ("runs/log-batch", {"run_id": run_id, "params": [{"key": "p", "value": "\x00"}]}),
        ("runs/search", {"experiment_ids": ["0"], "filter": "params.a = 'x\x00'"}),
    ]
    for path, body in nul:
        response = any_client.post("/api/2.0/mlflow/" + path, json=body)
        if store_uri.startswith("postgresql"):
            assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text
        else:
            assert response.status_code == 200, response.text
    if store_uri.startswith("postgresql"):
        assert _state(any_client) == before


def test_filters_with_many_keys_are_refused_quickly(any_client: TestClient) -> None:
    for keys, (kind, comparison) in (
        (33, ("params", "= 'v'")),
        (64, ("metrics", "> 0")),
        (200, ("tags", "!= 'x'")),
        (200, ("params", "= 'v'")),
    ):
        text = " and ".join(f"{kind}.k{i} {comparison}" for i in range(keys))
        start = time.perf_counter()
        response = any_client.post(
            "/api/2.0/mlflow/runs/search", json={"experiment_ids": ["0"], "filter": text}
        )
        assert time.perf_counter() - start < 5
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text
        assert "at most 32" in response.json()["message"]


def test_filter_and_order_by_keys_together_are_bounded(any_client: TestClient) -> None:
    text = " and ".join(f"params.k{i} = 'v'" for i in range(32))
    order = [f"metrics.m{i}" for i in range(20)]
    response = any_client.post(
        "/api/2.0/mlflow/runs/search",
        json={"experiment_ids": ["0"], "filter": text, "order_by": order},
    )
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), response.text
    at_limit = any_client.post(
        "/api/2.0/mlflow/runs/search",
        json={"experiment_ids": ["0"], "filter": text, "order_by": order[:16]},
    )
    assert at_limit.status_code == 200, at_limit.text
