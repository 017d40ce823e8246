"""Issue 9 finding 1: an experiment location must never make the server serve files outside
its artifact roots (``file:///etc#`` once gave runs the root ``/etc``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from tests.server.conftest import error_of

from tracklet.uri import append_to_uri_path

ESCAPING = [
    "file:///etc#",
    "file:///etc?",
    "file:/etc#",
    "file:///etc?x=",
    "file:///etc#frag",
    "file:///etc;p",
]


@pytest.mark.parametrize("location", ESCAPING)
def test_create_refuses_fragment_query_and_params(client, location: str, record_property) -> None:
    response = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "x", "artifact_location": location}
    )
    assert error_of(response) == (400, "INVALID_PARAMETER_VALUE")
    assert "artifact_location" in response.json()["message"]
    listed = client.post("/api/2.0/mlflow/experiments/search", json={"max_results": 10}).json()
    assert [e["name"] for e in listed["experiments"]] == ["Default"]
    record_property("traversal_probes", 1)


def test_create_refuses_local_location_outside_the_roots(
    client, tmp_path: Path, record_property
) -> None:
    for location in ("/etc", "file:///etc", str(tmp_path), f"file://{tmp_path}/mlartifacts/../x"):
        response = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "outside", "artifact_location": location},
        )
        assert error_of(response) == (400, "INVALID_PARAMETER_VALUE"), location
        record_property("traversal_probes", 1)


def test_create_accepts_locations_inside_the_proxy_root(client, tmp_path: Path) -> None:
    inside = f"file://{tmp_path}/mlartifacts/team-a"
    response = client.post(
        "/api/2.0/mlflow/experiments/create", json={"name": "inside", "artifact_location": inside}
    )
    assert response.status_code == 200, response.text
    experiment_id = response.json()["experiment_id"]
    run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    info = run.json()["run"]["info"]
    assert info["artifact_uri"] == f"{inside}/{info['run_id']}/artifacts"


def test_a_stored_escaping_location_is_not_served(client, tmp_path: Path, record_property) -> None:
    """A location written before the fix (straight into the database) is refused on read."""
    with sqlite3.connect(tmp_path / "server.db") as db:
        db.execute(
            "INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time,"
            " last_update_time) VALUES ('old', 'file:///etc#', 'active', 0, 0)"
        )
    experiment = client.get(
        "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "old"}
    ).json()["experiment"]
    run = client.post(
        "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment["experiment_id"]}
    )
    assert error_of(run) == (400, "INVALID_PARAMETER_VALUE")
    record_property("traversal_probes", 1)


def test_get_artifact_cannot_read_passwd_through_any_form(client, record_property) -> None:
    for location in ESCAPING:
        created = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": f"e-{location}", "artifact_location": location},
        )
        record_property("traversal_probes", 1)
        if created.status_code != 200:
            continue
        run = client.post(
            "/api/2.0/mlflow/runs/create",
            json={"experiment_id": created.json()["experiment_id"]},
        ).json()["run"]
        for path in ("passwd", ""):
            response = client.get(
                "/get-artifact", params={"run_uuid": run["info"]["run_id"], "path": path}
            )
            assert b"root:" not in response.content
            listing = client.get(
                "/api/2.0/mlflow/artifacts/list", params={"run_id": run["info"]["run_id"]}
            )
            assert "passwd" not in listing.text
            record_property("traversal_probes", 2)


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("mlflow-artifacts:/", "mlflow-artifacts:/1/r/artifacts"),
        ("mlflow-artifacts:/3", "mlflow-artifacts:/3/1/r/artifacts"),
        ("file:///data/x/", "file:///data/x/1/r/artifacts"),
        ("/data/x", "/data/x/1/r/artifacts"),
        ("s3://bucket", "s3://bucket/1/r/artifacts"),
        ("s3://bucket/p", "s3://bucket/p/1/r/artifacts"),
        ("http://host:5000/a", "http://host:5000/a/1/r/artifacts"),
        ("/data/a#b", "/data/a#b/1/r/artifacts"),  # a plain path: '#' is part of a name
    ],
)
def test_append_to_uri_path_joins_the_path(location: str, expected: str) -> None:
    assert append_to_uri_path(location, "1", "r", "artifacts") == expected
