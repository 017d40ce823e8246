"""Experiments, runs and metrics over the wire: shapes, paging and the UI's bulk reads."""

from __future__ import annotations

import json
from typing import Any

RUNS = "/api/2.0/mlflow/runs"
METRICS = "/api/2.0/mlflow/metrics"


def _log(client: Any, run_id: str, key: str, points: list[tuple[int, float]]) -> None:
    metrics = [{"key": key, "value": v, "timestamp": 1000 + s, "step": s} for s, v in points]
    response = client.post(f"{RUNS}/log-batch", json={"run_id": run_id, "metrics": metrics})
    assert response.status_code == 200, response.text


def test_create_run_defaults_and_update(client: Any) -> None:
    run = client.post(
        f"{RUNS}/create",
        json={
            "experiment_id": "0",
            "start_time": "1700000000000",
            "tags": [{"key": "a", "value": "b"}],
        },
    ).json()["run"]
    assert run["info"]["start_time"] == 1_700_000_000_000  # int64 as a string (Java)
    assert run["info"]["status"] == "RUNNING"
    assert run["inputs"] == {}
    run_id = run["info"]["run_id"]
    updated = client.post(
        f"{RUNS}/update",
        json={"run_uuid": run_id, "status": "FINISHED", "end_time": 5, "run_name": "n"},
    ).json()
    assert updated["run_info"]["status"] == "FINISHED"
    assert updated["run_info"]["run_name"] == "n"
    got = client.get(f"{RUNS}/get", params={"run_uuid": run_id}).json()["run"]
    assert {"key": "mlflow.runName", "value": "n"} in got["data"]["tags"]


def test_metric_history_pages_with_tokens(client: Any, run_id: str) -> None:
    _log(client, run_id, "m", [(s, float(s)) for s in range(25)])
    steps, token = [], None
    while True:
        params: dict[str, Any] = {"run_id": run_id, "metric_key": "m", "max_results": 10}
        if token:
            params["page_token"] = token
        body = client.get(f"{METRICS}/get-history", params=params).json()
        steps += [m["step"] for m in body["metrics"]]
        token = body.get("next_page_token")
        if not token:
            break
    assert steps == list(range(25))
    whole = client.get(f"{METRICS}/get-history", params={"run_id": run_id, "metric_key": "m"})
    assert len(whole.json()["metrics"]) == 25
    assert (
        client.get(f"{METRICS}/get-history", params={"run_id": run_id, "metric_key": "none"}).json()
        == {}
    )
    bad = client.get(
        f"{METRICS}/get-history", params={"run_id": run_id, "metric_key": "m", "max_results": 0}
    )
    assert bad.status_code == 400
    garbage = client.get(
        f"{METRICS}/get-history",
        params={"run_id": run_id, "metric_key": "m", "max_results": 5, "page_token": "??"},
    )
    assert garbage.status_code == 400


def test_bulk_interval_samples_and_keeps_ends(client: Any, run_id: str) -> None:
    _log(client, run_id, "m", [(s, float(s)) for s in range(100)])
    body = client.get(
        f"{METRICS}/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "m", "max_results": 10},
    ).json()
    steps = [m["step"] for m in body["metrics"]]
    assert len(steps) == 10
    assert (steps[0], steps[-1]) == (0, 99)
    assert body["metrics"][0]["run_id"] == run_id
    ranged = client.get(
        f"{METRICS}/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "m", "start_step": 10, "end_step": 20},
    ).json()
    assert [m["step"] for m in ranged["metrics"]] == list(range(10, 21))
    half = client.get(
        f"{METRICS}/get-history-bulk-interval",
        params={"run_ids": run_id, "metric_key": "m", "start_step": 10},
    )
    assert half.status_code == 400
    ajax = client.get(
        "/ajax-api/2.0/mlflow/metrics/get-history-bulk",
        params=[("run_id", run_id), ("metric_key", "m"), ("max_results", "5")],
    )
    assert [m["step"] for m in ajax.json()["metrics"]] == [0, 1, 2, 3, 4]
    assert client.get("/api/2.0/mlflow/metrics/get-history-bulk").status_code == 404


def test_nan_and_infinity_on_the_wire(client: Any, run_id: str) -> None:
    body = json.dumps(
        {
            "run_id": run_id,
            "metrics": [
                {"key": "n", "value": "NaN", "timestamp": 1, "step": 0},
                {"key": "i", "value": "Infinity", "timestamp": 1, "step": 0},
                {"key": "j", "value": "-Infinity", "timestamp": 1, "step": 0},
            ],
        }
    )
    response = client.post(
        f"{RUNS}/log-batch", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    metrics = {
        m["key"]: m["value"]
        for m in client.get(f"{RUNS}/get", params={"run_id": run_id}).json()["run"]["data"][
            "metrics"
        ]
    }
    assert metrics["n"] == "NaN"
    assert metrics["i"] in ("Infinity", 1.7976931348623157e308)
    assert metrics["j"] in ("-Infinity", -1.7976931348623157e308)


def test_log_batch_is_all_or_nothing_per_request(client: Any, run_id: str) -> None:
    client.post(f"{RUNS}/log-parameter", json={"run_id": run_id, "key": "p", "value": "1"})
    response = client.post(
        f"{RUNS}/log-batch",
        json={
            "run_id": run_id,
            "metrics": [{"key": "x", "value": 1.0, "timestamp": 1}],
            "params": [{"key": "p", "value": "2"}],
        },
    )
    assert response.status_code == 400
    assert "Changing param values is not allowed" in response.json()["message"]
    history = client.get(f"{METRICS}/get-history", params={"run_id": run_id, "metric_key": "x"})
    assert history.json() == {}
    dupes = client.post(
        f"{RUNS}/log-batch",
        json={"run_id": run_id, "params": [{"key": "q", "value": "1"}, {"key": "q", "value": "1"}]},
    )
    assert dupes.status_code == 400


def test_log_model_history_and_search_datasets(client: Any, run_id: str) -> None:
    model = {"artifact_path": "model", "flavors": {}, "utc_time_created": "x", "run_id": run_id}
    assert (
        client.post(
            f"{RUNS}/log-model", json={"run_id": run_id, "model_json": json.dumps(model)}
        ).json()
        == {}
    )
    missing = client.post(f"{RUNS}/log-model", json={"run_id": run_id, "model_json": "{}"})
    assert missing.status_code == 400
    tags = client.get(f"{RUNS}/get", params={"run_id": run_id}).json()["run"]["data"]["tags"]
    history = next(t["value"] for t in tags if t["key"] == "mlflow.log-model.history")
    assert json.loads(history) == [model]
    client.post(
        f"{RUNS}/log-inputs",
        json={
            "run_id": run_id,
            "datasets": [
                {
                    "tags": [{"key": "mlflow.data.context", "value": "train"}],
                    "dataset": {
                        "name": "ds",
                        "digest": "abc",
                        "source_type": "code",
                        "source": "{}",
                    },
                }
            ],
        },
    )
    summaries = client.post(
        "/ajax-api/2.0/mlflow/experiments/search-datasets", json={"experiment_ids": ["0"]}
    ).json()
    assert summaries == {
        "dataset_summaries": [
            {"experiment_id": "0", "name": "ds", "digest": "abc", "context": "train"}
        ]
    }
    assert (
        client.post(
            "/ajax-api/2.0/mlflow/experiments/search-datasets", json={"experiment_ids": []}
        ).status_code
        == 400
    )


def test_experiment_search_get_and_post(client: Any) -> None:
    for name in ("a", "b", "c"):
        client.post("/api/2.0/mlflow/experiments/create", json={"name": name})
    posted = client.post(
        "/api/2.0/mlflow/experiments/search", json={"max_results": 2, "view_type": "ALL"}
    ).json()
    assert len(posted["experiments"]) == 2
    assert "next_page_token" in posted
    got = client.get(
        "/api/2.0/mlflow/experiments/search",
        params={"max_results": 2, "view_type": "ALL", "page_token": posted["next_page_token"]},
    ).json()
    assert len(got["experiments"]) == 2
    assert "next_page_token" not in got


def test_logged_models_routes(client: Any, run_id: str) -> None:
    base = "/api/2.0/mlflow/logged-models"
    created = client.post(
        base,
        json={
            "experiment_id": "0",
            "name": "mymodel",
            "source_run_id": run_id,
            "params": [{"key": "p", "value": "1"}],
        },
    ).json()["model"]
    model_id = created["info"]["model_id"]
    assert created["info"]["status"] == "LOGGED_MODEL_PENDING"
    assert created["info"]["artifact_uri"] == f"mlflow-artifacts:/0/models/{model_id}/artifacts"
    done = client.patch(
        f"{base}/{model_id}", json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    ).json()
    assert done["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    assert (
        client.patch(
            f"{base}/{model_id}/tags", json={"tags": [{"key": "k", "value": "v"}]}
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"{base}/{model_id}/params", json={"params": [{"key": "q", "value": "2"}]}
        ).status_code
        == 200
    )
    got = client.get(f"{base}/{model_id}").json()["model"]
    assert got["info"]["tags"] == [{"key": "k", "value": "v"}]
    assert {p["key"] for p in got["data"]["params"]} == {"p", "q"}
    assert client.delete(f"{base}/{model_id}/tags/k").status_code == 200
    found = client.post(f"{base}/search", json={"experiment_ids": ["0"]}).json()
    assert [m["info"]["model_id"] for m in found["models"]] == [model_id]
    assert (
        client.request("DELETE", f"{base}/{model_id}", json={"model_id": model_id}).status_code
        == 200
    )
    missing = client.get(f"{base}/{model_id}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
