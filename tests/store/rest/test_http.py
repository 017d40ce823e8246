"""The REST store's HTTP client: auth from MLflow's variables, retries only on 429/503."""

from __future__ import annotations

import base64
import json
import os

import httpx
import pytest

from tracklet.exceptions import MlflowException
from tracklet.store.rest.http import HttpClient, query_params
from tracklet.wire import endpoints as ep


def _client(handler: object) -> HttpClient:
    return HttpClient("http://server:5000/prefix", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_paths_bodies_and_query_strings() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    client = _client(handler)
    assert client.call(ep.LOG_PARAM, {"run_id": "r", "key": "k", "value": "v"}) == {"ok": True}
    client.call(ep.GET_METRIC_HISTORY_BULK_INTERVAL, {"run_ids": ["a", "b"], "metric_key": "m"})
    client.call(ep.DELETE_LOGGED_MODEL_TAG, {}, {"model_id": "m-1", "tag_key": "a/b c"})
    post, get, delete = seen
    assert post.url.path == "/prefix/api/2.0/mlflow/runs/log-parameter"
    assert post.headers["content-type"] == "application/json"
    assert json.loads(post.content) == {"run_id": "r", "key": "k", "value": "v"}
    assert get.url.query == b"run_ids=a&run_ids=b&metric_key=m"
    assert delete.url.raw_path == b"/prefix/api/2.0/mlflow/logged-models/m-1/tags/a%2Fb%20c"
    assert query_params({"flag": True, "n": 3, "none": None}) == [("flag", "true"), ("n", "3")]


def test_auth_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    os.environ["MLFLOW_TRACKING_TOKEN"] = "tok"
    _client(handler).call(ep.GET_RUN, {"run_id": "r"})
    os.environ["MLFLOW_TRACKING_USERNAME"] = "user"
    os.environ["MLFLOW_TRACKING_PASSWORD"] = "pass"
    _client(handler).call(ep.GET_RUN, {"run_id": "r"})
    assert seen[0].headers["authorization"] == "Bearer tok"
    expected = base64.b64encode(b"user:pass").decode()
    assert seen[1].headers["authorization"] == f"Basic {expected}"


def test_retries_429_and_503_only(monkeypatch: pytest.MonkeyPatch) -> None:
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    answers = [
        httpx.Response(503, text="busy"),
        httpx.Response(429, headers={"retry-after": "0"}),
        httpx.Response(200, json={"run": 1}),
    ]

    def flaky(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    assert _client(flaky).call(ep.GET_RUN, {"run_id": "r"}) == {"run": 1}
    calls = []

    def broken(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(500, json={"error_code": "INTERNAL_ERROR", "message": "boom"})

    with pytest.raises(MlflowException) as info:
        _client(broken).call(ep.GET_RUN, {"run_id": "r"})
    assert len(calls) == 1
    assert info.value.error_code == "INTERNAL_ERROR"


def test_gives_up_after_max_retries() -> None:
    os.environ["MLFLOW_HTTP_REQUEST_MAX_RETRIES"] = "2"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"] = "0"
    os.environ["MLFLOW_HTTP_REQUEST_BACKOFF_JITTER"] = "0"
    calls = []

    def busy(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(503, text="Service Unavailable")

    with pytest.raises(MlflowException) as info:
        _client(busy).call(ep.GET_RUN, {"run_id": "r"})
    assert len(calls) == 3
    assert info.value.error_code == "TEMPORARILY_UNAVAILABLE"


def test_non_json_404_is_endpoint_not_found() -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="<html>Not Found</html>")

    with pytest.raises(MlflowException) as info:
        _client(missing).call(ep.GET_RUN, {"run_id": "r"})
    assert info.value.error_code == "ENDPOINT_NOT_FOUND"
