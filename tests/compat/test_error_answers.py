"""Issue 18 item 4: error answers as MLflow 3.17.2's server gives them, compared live.

The same bad requests go to ``mlflow server`` and to ``tracklet server``; status, error code
and message must match, since clients and MLflow's own tests match on the text. A bad page token
on every paged endpoint is 400 INVALID_PARAMETER_VALUE (never silently the first page), a
traversal attempt on the artifact routes (model-versions/get-artifact too) answers
``Invalid path``, and the bulk metric
histories answer MLflow's limit messages. The library answers the same for page tokens.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tracklet import MlflowClient
from tracklet.exceptions import MlflowException

pytestmark = pytest.mark.xdist_group("mlflow_server")

NOT_BASE64 = "garbage"
NOT_JSON = "bm90IGpzb24="  # base64 of "not json"
NOT_A_TOKEN = "eyJ4IjogMX0="  # base64 of {"x": 1}
GET, POST = "GET", "POST"
BULK = "/ajax-api/2.0/mlflow/metrics/get-history-bulk"
INTERVAL = f"{BULK}-interval"


def _cases(experiment_id: str, run_id: str, model: str) -> list[tuple[str, str, dict[str, Any]]]:
    history = {"run_id": run_id, "metric_key": "m", "max_results": 1}
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for token in (NOT_BASE64, NOT_JSON, NOT_A_TOKEN):
        cases += [
            (GET, "/api/2.0/mlflow/metrics/get-history", {**history, "page_token": token}),
            (
                POST,
                "/api/2.0/mlflow/runs/search",
                {"experiment_ids": [experiment_id], "page_token": token},
            ),
            (GET, "/api/2.0/mlflow/experiments/search", {"max_results": 1, "page_token": token}),
        ]
    for path in ("../x", "/etc/passwd", "a/../../x", "..%2Fx"):
        cases += [
            (GET, "/api/2.0/mlflow/artifacts/list", {"run_id": run_id, "path": path}),
            (GET, "/get-artifact", {"run_id": run_id, "path": path}),
            (GET, "/api/2.0/mlflow-artifacts/artifacts", {"path": path}),
            (GET, "/model-versions/get-artifact", {"name": model, "version": "1", "path": path}),
        ]
    cases += [
        (GET, "/api/2.0/mlflow-artifacts/artifacts/..%2Fx", {}),
        (POST, "/api/2.0/mlflow/experiments/search", {}),  # max_results 0 over JSON
        (POST, "/api/2.0/mlflow/experiments/search", {"max_results": 50001}),
        (GET, BULK, {"run_id": [run_id] * 101, "metric_key": "m"}),
        (GET, BULK, {"metric_key": "m"}),
        (GET, BULK, {"run_id": run_id}),
        (GET, BULK, {"run_id": ["no-such-run"], "metric_key": "m"}),
        (GET, INTERVAL, {"run_ids": [run_id] * 101, "metric_key": "m"}),
        (GET, INTERVAL, {"metric_key": "m"}),
        (GET, INTERVAL, {"run_ids": run_id}),
        (GET, INTERVAL, {"run_ids": run_id, "metric_key": "m", "max_results": 0}),
        (GET, INTERVAL, {"run_ids": run_id, "metric_key": "m", "max_results": 2501}),
        (GET, INTERVAL, {"run_ids": run_id, "metric_key": "m", "start_step": 5}),
        (GET, INTERVAL, {"run_ids": run_id, "metric_key": "m", "start_step": 5, "end_step": 1}),
        (GET, INTERVAL, {"run_ids": ["no-such-run"], "metric_key": "m"}),
    ]
    return cases


def _answers(url: str) -> list[tuple[int, Any, Any]]:
    with requests.Session() as session:
        experiment_id = session.post(
            f"{url}/api/2.0/mlflow/experiments/create", json={"name": f"e-{time.time_ns()}"}
        ).json()["experiment_id"]
        run_id = session.post(
            f"{url}/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id}
        ).json()["run"]["info"]["run_id"]
        for step in range(3):
            session.post(
                f"{url}/api/2.0/mlflow/runs/log-metric",
                json={"run_id": run_id, "key": "m", "value": step, "timestamp": 1, "step": step},
            ).raise_for_status()
        model = f"m-{time.time_ns()}"
        for path, body in [
            ("registered-models/create", {"name": model}),
            (
                "model-versions/create",
                {"name": model, "source": f"runs:/{run_id}/m", "run_id": run_id},
            ),
        ]:
            session.post(f"{url}/api/2.0/mlflow/{path}", json=body).raise_for_status()
        out = []
        for method, path, fields in _cases(experiment_id, run_id, model):
            if method == GET:
                response = session.get(url + path, params=fields)
            else:
                response = session.post(url + path, json=fields)
            body = response.json() if response.status_code >= 400 else {}
            out.append((response.status_code, body.get("error_code"), body.get("message")))
        return out


def test_error_answers_match_mlflow_server(tracklet_server: Any, mlflow_server: Any) -> None:
    ours, theirs = _answers(tracklet_server.url), _answers(mlflow_server.url)
    cases = _cases("<experiment>", "<run>", "<model>")
    for case, mine, oracle in zip(cases, ours, theirs, strict=True):
        assert mine == oracle, case
    assert any(code == "INVALID_PARAMETER_VALUE" for _, code, _ in ours)


@pytest.mark.parametrize("token", [NOT_BASE64, NOT_JSON, NOT_A_TOKEN])
def test_logged_model_search_refuses_a_bad_token(
    tracklet_server: Any, mlflow_server: Any, token: str
) -> None:
    """MLflow answers 500 on a token that is not base64 (a bug, not a contract) and 400 on the
    others; tracklet answers 400 INVALID_PARAMETER_VALUE on all three."""
    answers = {}
    for server in (tracklet_server, mlflow_server):
        experiment_id = requests.post(
            f"{server.url}/api/2.0/mlflow/experiments/create", json={"name": f"e-{time.time_ns()}"}
        ).json()["experiment_id"]
        response = requests.post(
            f"{server.url}/api/2.0/mlflow/logged-models/search",
            json={"experiment_ids": [experiment_id], "page_token": token},
        )
        answers[server.kind] = response
    assert answers["tracklet"].status_code == 400
    assert answers["tracklet"].json()["error_code"] == "INVALID_PARAMETER_VALUE"
    if token != NOT_BASE64:
        assert answers["mlflow"].status_code == 400
        assert answers["mlflow"].json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Any:
    import mlflow

    return mlflow.MlflowClient(f"sqlite:///{tmp_path_factory.mktemp('oracle') / 'mlflow.db'}")


@pytest.mark.parametrize("token", [NOT_BASE64, NOT_JSON, NOT_A_TOKEN])
def test_library_page_token_errors_match_mlflow(tracking_uri: str, oracle: Any, token: str) -> None:
    """The library (SQLite and PostgreSQL) refuses a bad token as MLflow's library does."""
    import mlflow

    client = MlflowClient(tracking_uri)
    calls = [
        lambda c: c.search_runs(["0"], page_token=token),
        lambda c: c.search_experiments(page_token=token),
    ]
    for call in calls:
        with pytest.raises(mlflow.exceptions.MlflowException) as expected:
            call(oracle)
        with pytest.raises(MlflowException) as info:
            call(client)
        assert info.value.error_code == expected.value.error_code == "INVALID_PARAMETER_VALUE"
        assert info.value.message == expected.value.message
