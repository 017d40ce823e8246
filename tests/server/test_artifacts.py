"""The artifact proxy: bytes up and down, listings, deletes, and nothing outside the root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tracklet.server.app import create_app
from tracklet.server.settings import ServerSettings

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
SECRET = b"top secret"

PROBES = [
    "../secret.txt",
    "a/../../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "%252e%252e/secret.txt",
    "%25252e%25252e%25252fsecret.txt",
    "..%5csecret.txt",
    "a%5c..%5c..%5csecret.txt",
    "%2fetc%2fpasswd",
    "C:%5cWindows%5cwin.ini",
    "link/secret.txt",
    "link",
    "ok%00/../../secret.txt",
]


@pytest.fixture
def root(settings: ServerSettings, client: Any) -> Path:
    """The proxy root, with a secret beside it and a symlink inside it that points out."""
    root = Path(settings.artifacts_path)
    (root.parent / "secret.txt").write_bytes(SECRET)
    os.symlink(root.parent, root / "link")
    return root


def test_upload_download_list_delete(client: Any, root: Path) -> None:
    payload = bytes(range(256)) * 1000
    assert client.put(f"{PROXY}/1/r/artifacts/dir/data.bin", content=payload).status_code == 200
    assert (
        client.put(
            f"{PROXY}/1/r/artifacts/a.txt", content=b"a", headers={"content-type": "text/plain"}
        ).status_code
        == 200
    )
    assert (root / "1/r/artifacts/dir/data.bin").read_bytes() == payload
    response = client.get(f"{PROXY}/1/r/artifacts/dir/data.bin")
    assert response.content == payload
    assert response.headers["content-disposition"] == "attachment; filename=data.bin"  # MLflow's
    assert response.headers["x-content-type-options"] == "nosniff"
    listing = client.get(PROXY, params={"path": "1/r/artifacts"}).json()
    assert listing == {
        "files": [
            {"path": "a.txt", "is_dir": False, "file_size": 1},
            {"path": "dir", "is_dir": True},
        ]
    }
    assert client.get(PROXY, params={"path": "1/r/artifacts/a.txt"}).json() == {
        "files": [{"path": "a.txt", "is_dir": False, "file_size": 1}]
    }
    assert client.get(PROXY, params={"path": "nowhere"}).json() == {}
    assert client.delete(f"{PROXY}/1/r/artifacts/dir").json() == {}
    assert not (root / "1/r/artifacts/dir").exists()


def test_download_errors(client: Any, root: Path) -> None:
    client.put(f"{PROXY}/1/x.txt", content=b"x")
    missing = client.get(f"{PROXY}/1/nope.txt")
    assert missing.status_code == 404
    assert missing.json()["message"] == "No such artifact: '1/nope.txt'"
    assert client.get(f"{PROXY}/1").status_code == 400


def test_upload_over_the_limit_is_413_and_leaves_nothing(client: Any, root: Path) -> None:
    def chunks() -> Any:
        for _ in range(5):
            yield b"x" * (1024 * 1024)

    response = client.put(f"{PROXY}/big.bin", content=chunks())
    assert response.status_code == 413
    assert not list(root.glob("*big*"))
    assert not list(root.glob(".big*"))


@pytest.mark.parametrize("probe", PROBES)
def test_traversal_probes_touch_nothing_outside(
    client: Any, root: Path, probe: str, record_property: Any
) -> None:
    outside = root.parent / "secret.txt"
    responses = [
        client.get(f"{PROXY}/{probe}"),
        client.put(f"{PROXY}/{probe}", content=b"overwritten"),
        client.delete(f"{PROXY}/{probe}"),
        client.get(PROXY, params={"path": probe.replace("%2f", "/")}),
    ]
    for response in responses:
        assert response.status_code in (400, 404), (probe, response.status_code, response.text)
        if response.status_code == 400:
            assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert SECRET not in response.content
    assert outside.read_bytes() == SECRET
    assert (root / "link").is_symlink()
    record_property("traversal_probes", len(responses))


def test_listing_hides_symlinks_that_leave_the_root(client: Any, root: Path) -> None:
    client.put(f"{PROXY}/inside.txt", content=b"i")
    assert client.get(PROXY).json() == {
        "files": [{"path": "inside.txt", "is_dir": False, "file_size": 1}]
    }


def test_multipart_and_presigned_are_not_offered(client: Any) -> None:
    response = client.post(
        "/api/2.0/mlflow-artifacts/mpu/create/a/b.bin", json={"path": "b.bin", "num_parts": 2}
    )
    assert response.status_code == 501
    assert response.json()["error_code"] == "NOT_IMPLEMENTED"


def test_no_serve_artifacts_answers_503(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    settings = ServerSettings(
        f"sqlite:///{tmp_path / 's.db'}",
        serve_artifacts=False,
        default_artifact_root=str(tmp_path / "mlruns"),
    )
    with TestClient(create_app(settings), base_url="http://localhost") as client:
        assert client.get(f"{PROXY}/a.txt").status_code == 503
        created = client.post("/api/2.0/mlflow/experiments/create", json={"name": "e"}).json()
        experiment = client.get(
            "/api/2.0/mlflow/experiments/get", params={"experiment_id": created["experiment_id"]}
        ).json()
        assert experiment["experiment"]["artifact_location"] == str(tmp_path / "mlruns" / "1")


def test_run_artifact_listing_and_download(
    client: Any, run_id: str, root: Path, record_property: Any
) -> None:
    run = client.get("/api/2.0/mlflow/runs/get", params={"run_id": run_id}).json()["run"]
    base = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    assert base == f"0/{run_id}/artifacts"
    client.put(f"{PROXY}/{base}/dir/sub.txt", content=b"sub")
    client.put(f"{PROXY}/{base}/top.txt", content=b"top")
    listing = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run_id}).json()
    assert listing["root_uri"] == run["info"]["artifact_uri"]
    assert listing["files"] == [
        {"path": "dir", "is_dir": True},
        {"path": "top.txt", "is_dir": False, "file_size": 3},
    ]
    nested = client.get(
        "/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": "dir"}
    ).json()
    assert nested["files"] == [{"path": "dir/sub.txt", "is_dir": False, "file_size": 3}]
    download = client.get("/get-artifact", params={"run_id": run_id, "path": "dir/sub.txt"})
    assert download.content == b"sub"
    for probe in ("../../..", "%2e%2e/%2e%2e/%2e%2e/secret.txt", "/etc"):
        bad = client.get("/api/2.0/mlflow/artifacts/list", params={"run_id": run_id, "path": probe})
        assert bad.status_code == 400
        assert (
            client.get("/get-artifact", params={"run_id": run_id, "path": probe}).status_code == 400
        )
        record_property("traversal_probes", 2)
