"""Trace and OTLP routes under ``--app-name basic-auth`` follow the experiment the trace lives
in (MLflow's trace validators): read to get, search and batch-get, update to tag, create and
ingest, delete to delete, update on the run and read on the traces to link them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.server.test_auth import ADMIN, _client, _user, auth_settings, basic

from tracklet.server.settings import ServerSettings

__all__ = ["auth_settings"]  # the fixture, shared with test_auth

V3 = "/api/3.0/mlflow/traces"


def _otlp(trace_hex: str) -> dict[str, Any]:
    span = {
        "traceId": trace_hex,
        "spanId": "ab" * 8,
        "name": "root",
        "startTimeUnixNano": "1000000",
        "endTimeUnixNano": "2000000",
    }
    return {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}


def _location(experiment_id: str) -> dict[str, Any]:
    return {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}


def test_trace_routes_follow_the_experiment(auth_settings: ServerSettings) -> None:
    settings = replace(auth_settings, auth_default_permission="NO_PERMISSIONS")
    with _client(settings) as client:
        admin = basic(*ADMIN)
        bob = _user(client, "bob")
        create = "/api/2.0/mlflow/experiments/create"
        theirs = client.post(create, json={"name": "a"}, headers=admin).json()["experiment_id"]
        own = client.post(create, json={"name": "b"}, headers=bob).json()["experiment_id"]

        def ingest(experiment_id: str, trace_hex: str, who: dict[str, str]) -> int:
            headers = {**who, "x-mlflow-experiment-id": experiment_id}
            return client.post("/v1/traces", json=_otlp(trace_hex), headers=headers).status_code

        assert ingest(theirs, "1" * 32, admin) == 200
        assert ingest(theirs, "3" * 32, bob) == 403
        assert ingest(own, "2" * 32, bob) == 200
        assert client.post("/v1/traces", json=_otlp("4" * 32), headers=bob).status_code == 403
        their_trace, own_trace = "tr-" + "1" * 32, "tr-" + "2" * 32

        def status(method: str, path: str, base: str = V3, **kwargs: Any) -> int:
            return client.request(method, f"{base}{path}", headers=bob, **kwargs).status_code

        def reads() -> list[int]:
            return [
                status("GET", "/get", params={"trace_id": their_trace}),
                status("GET", f"/{their_trace}"),
                status("GET", "/batchGet", params={"trace_ids": [own_trace, their_trace]}),
                status("POST", "/batchGetInfos", json={"trace_ids": [their_trace]}),
                status("POST", "/search", json={"locations": [_location(theirs)]}),
            ]

        tag = {"key": "k", "value": "v"}
        assert reads() == [403] * 5
        assert status("GET", "/get", params={"trace_id": own_trace}) == 200
        assert status("GET", "/get", params={"trace_id": "tr-" + "9" * 32}) == 403  # unknown
        assert status("POST", "/search", json={"locations": [_location(own)]}) == 200
        assert status("PATCH", f"/{own_trace}/tags", json=tag) == 200
        assert status("PATCH", f"/{their_trace}/tags", json=tag) == 403
        start = {
            "trace": {
                "trace_info": {
                    "trace_id": "tr-" + "5" * 32,
                    "trace_location": _location(theirs),
                    "request_time": "2024-01-01T00:00:00Z",
                    "state": "OK",
                }
            }
        }
        assert status("POST", "", json=start) == 403
        start["trace"]["trace_info"]["trace_location"] = _location(own)
        assert status("POST", "", json=start) == 200

        grant = "/api/3.0/mlflow/users/permissions/grant"
        edit = {"username": "bob", "resource_type": "experiment", "resource_id": theirs}
        assert client.post(grant, json={**edit, "permission": "READ"}, headers=admin).is_success
        assert reads() == [200] * 5
        assert status("PATCH", f"/{their_trace}/tags", json=tag) == 403
        assert status("DELETE", f"/{their_trace}/tags", json={"key": "k"}) == 403
        run = client.post(
            "/api/2.0/mlflow/runs/create", json={"experiment_id": own}, headers=bob
        ).json()["run"]["info"]["run_id"]
        link = {"run_id": run, "trace_ids": [their_trace, own_trace]}
        assert (
            status("POST", "/link-to-run", "/api/2.0/mlflow/traces", json=link) == 200
        )  # update on the run, read on both
        delete = {"experiment_id": theirs, "max_timestamp_millis": 2**40}
        assert status("POST", "/delete-traces", json=delete) == 403
        assert client.post(grant, json={**edit, "permission": "MANAGE"}, headers=admin).is_success
        assert status("PATCH", f"/{their_trace}/tags", json=tag) == 200
        assert status("POST", "/delete-traces", json=delete) == 200
