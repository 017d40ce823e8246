"""Issue 9 findings 3-5: CORS headers only for allowed origins, duplicate Host headers refused,
and a full disk answered at once with a clear message and a status MLflow does not retry."""

from __future__ import annotations

import errno
import importlib.util
import os
import re
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from tests.server.conftest import error_of

from tracklet.artifacts.local import LocalArtifactRepository
from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings
from tracklet.store.rest.http import RETRY_STATUSES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

EVIL = "https://evil.example"
STORAGE_FULL_STATUS = 507  # Insufficient Storage


def _paths(client: TestClient, run_id: str) -> list[str]:
    return [
        f"/get-artifact?run_uuid={run_id}&path=a.txt",
        "/health",
        "/version",
        "/no/such/route",
        "/api/2.0/mlflow/experiments/search?max_results=1",
        "/api/2.0/mlflow-artifacts/artifacts/x.txt",
    ]


def test_foreign_origins_get_no_cors_headers_anywhere(client: TestClient, run_id: str) -> None:
    for path in _paths(client, run_id):
        response = client.get(path, headers={"origin": EVIL})
        assert "access-control-allow-origin" not in response.headers, path
        assert "access-control-allow-credentials" not in response.headers, path
    preflight = client.options("/get-artifact", headers={"origin": EVIL})
    assert "access-control-allow-origin" not in preflight.headers


def test_allowed_origins_keep_their_cors_headers(settings: ServerSettings) -> None:
    settings = replace(settings, cors_allowed_origins=("https://team.example",))
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        for origin in ("https://team.example", "http://localhost:3000"):
            response = client.get("/health", headers={"origin": origin})
            assert response.headers["access-control-allow-origin"] == origin
            assert response.headers["access-control-allow-credentials"] == "true"
        foreign = client.get("/health", headers={"origin": EVIL})
        assert "access-control-allow-origin" not in foreign.headers


def test_a_wildcard_allows_reading_without_credentials(settings: ServerSettings) -> None:
    settings = replace(settings, cors_allowed_origins=("*",))
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/health", headers={"origin": EVIL})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers


def test_no_policy_means_no_cors_headers(settings: ServerSettings) -> None:
    settings = replace(settings, disable_security_middleware=True)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        response = client.get("/health", headers={"origin": EVIL})
        assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("disabled", [False, True])
def test_duplicate_host_headers_are_refused(settings: ServerSettings, disabled: bool) -> None:
    settings = replace(settings, disable_security_middleware=disabled)
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        for path in ("/health", "/api/2.0/mlflow/experiments/search"):
            response = client.get(path, headers=[("host", "localhost"), ("host", "evil.example")])
            assert response.status_code == 400, path
        create = client.post(
            "/api/2.0/mlflow/experiments/create",
            json={"name": "x"},
            headers=[("host", "localhost"), ("host", "localhost")],
        )
        assert create.status_code == 400
        listed = client.get("/api/2.0/mlflow/experiments/search?max_results=10").json()
        assert [e["name"] for e in listed["experiments"]] == ["Default"]


# ---------------------------------------------------------------------- disk full


def test_507_is_not_a_status_mlflow_retries() -> None:
    """Read from MLflow's source (importing mlflow costs seconds): its retried statuses."""
    spec = importlib.util.find_spec("mlflow")
    assert spec is not None
    assert spec.origin is not None
    source = (Path(spec.origin).parent / "utils" / "request_utils.py").read_text()
    listed = source.split("_TRANSIENT_FAILURE_RESPONSE_CODES = frozenset(", 1)[1].split(")")[0]
    retried = {int(code) for code in re.findall(r"\b(\d{3})\b", listed)}
    assert {429, 500, 502, 503, 504} <= retried
    assert STORAGE_FULL_STATUS == 507
    assert STORAGE_FULL_STATUS not in retried | RETRY_STATUSES


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, where the machine lets the tests mount one."""
    mount = tmp_path / f"small-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: " + done.stderr.decode(errors="replace").strip())
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_507_with_a_clear_message(small_disk: Path, tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=str(small_disk),
        max_artifact_bytes=8 * 1024 * 1024,
    )
    with TestClient(
        create_app(settings), base_url="http://localhost", raise_server_exceptions=False
    ) as client:
        url = "/api/2.0/mlflow-artifacts/artifacts/big.bin"
        response = client.put(url, content=b"x" * (2 * 1024 * 1024))
        assert response.status_code == STORAGE_FULL_STATUS
        assert response.json()["error_code"] == "RESOURCE_EXHAUSTED"
        assert "disk full" in response.json()["message"]
        assert os.listdir(small_disk) == []  # no partial file, no temporary left behind
        small = client.put("/api/2.0/mlflow-artifacts/artifacts/small.txt", content=b"ok")
        assert small.status_code == 200


def test_a_full_database_disk_is_507(small_disk: Path, tmp_path: Path) -> None:
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{small_disk / 'server.db'}",
        artifacts_destination=str(tmp_path / "mlartifacts"),
    )
    with TestClient(
        create_app(settings), base_url="http://localhost", raise_server_exceptions=False
    ) as client:
        run = client.post("/api/2.0/mlflow/runs/create", json={"experiment_id": "0"}).json()
        run_id = run["run"]["info"]["run_id"]
        statuses = set()
        for i in range(200):
            params = [{"key": f"p{i}_{j}", "value": "v" * 5000} for j in range(10)]
            response = client.post(
                "/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "params": params}
            )
            statuses.add(response.status_code)
            if response.status_code != 200:
                break
        assert statuses == {200, STORAGE_FULL_STATUS}
        assert error_of(response) == (STORAGE_FULL_STATUS, "RESOURCE_EXHAUSTED")


def test_a_failed_local_copy_leaves_no_empty_file(small_disk: Path, tmp_path: Path) -> None:
    source = tmp_path / "model.bin"
    source.write_bytes(b"x" * (2 * 1024 * 1024))
    repo = LocalArtifactRepository(str(small_disk / "run"))
    with pytest.raises(OSError, match="No space left") as raised:
        repo.log_artifact(str(source))
    assert raised.value.errno == errno.ENOSPC
    assert os.listdir(small_disk / "run") == []
    (tmp_path / "small.txt").write_text("fits")
    repo.log_artifact(str(tmp_path / "small.txt"))
    assert (small_disk / "run" / "small.txt").read_text() == "fits"
