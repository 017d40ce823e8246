"""HttpArtifactRepository against tracklet's own server (uvicorn on 127.0.0.1, in a thread):
``mlflow-artifacts:`` URIs resolved against the tracking URI, and plain http(s) proxy URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracklet.artifacts.http import HttpArtifactRepository, resolve_mlflow_artifacts_uri
from tracklet.artifacts.registry import get_artifact_repository
from tracklet.exceptions import MlflowException

from .conftest import LiveServer, RoundTrip, tree_of


@pytest.mark.parametrize(
    ("artifact_uri", "tracking_uri", "expected"),
    [
        (
            "mlflow-artifacts:/1/abc/artifacts",
            "http://h:5000",
            "http://h:5000/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ),
        (
            "mlflow-artifacts:/1/abc/artifacts",
            "https://h/prefix/",
            "https://h/prefix/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts",
        ),
        (
            "mlflow-artifacts://other:8080/1/x",
            "http://h:5000",
            "http://other:8080/api/2.0/mlflow-artifacts/artifacts/1/x",
        ),
        ("mlflow-artifacts:/", "http://h", "http://h/api/2.0/mlflow-artifacts/artifacts"),
    ],
)
def test_resolve_mlflow_artifacts_uri(artifact_uri: str, tracking_uri: str, expected: str) -> None:
    assert resolve_mlflow_artifacts_uri(artifact_uri, tracking_uri) == expected


def test_mlflow_artifacts_needs_an_http_tracking_uri() -> None:
    with pytest.raises(MlflowException, match="tracking URI must be its http"):
        get_artifact_repository("mlflow-artifacts:/1/x", "sqlite:///x.db")


def test_mlflow_artifacts_needs_the_callers_tracking_uri() -> None:
    # The repository layer never reads the tracking URI in force: the caller passes it.
    with pytest.raises(MlflowException, match="pass the server's tracking_uri") as caught:
        get_artifact_repository("mlflow-artifacts:/1/x")
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_round_trip_through_mlflow_artifacts_uri(
    live_server: LiveServer, round_trip: RoundTrip
) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/7/run-a/artifacts", live_server.url)
    assert isinstance(repo, HttpArtifactRepository)
    round_trip(repo)


def test_round_trip_through_an_http_url(live_server: LiveServer, round_trip: RoundTrip) -> None:
    url = f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/8/run-b/artifacts"
    round_trip(get_artifact_repository(url))


def test_bytes_land_in_mlflow_layout_on_the_server(
    live_server: LiveServer, sample_dir: Path
) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/3/run-c/artifacts", live_server.url)
    repo.log_artifacts(str(sample_dir), "model")
    assert tree_of(live_server.destination / "3" / "run-c" / "artifacts" / "model") == tree_of(
        sample_dir
    )


def test_multipart_falls_back_to_one_put_when_the_server_has_none(
    live_server: LiveServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # tracklet's server stores proxied bytes locally, so mpu/create answers 501.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", "1024")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", "1024")
    f = tmp_path / "big.bin"
    f.write_bytes(bytes(range(256)) * 40)
    repo = get_artifact_repository("mlflow-artifacts:/4/run-d/artifacts", live_server.url)
    repo.log_artifact(str(f), "parts")
    assert (
        live_server.destination / "4/run-d/artifacts/parts/big.bin"
    ).read_bytes() == f.read_bytes()


def test_missing_file_is_resource_does_not_exist(live_server: LiveServer, tmp_path: Path) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/5/none/artifacts", live_server.url)
    with pytest.raises(MlflowException) as e:
        repo.download_artifacts("nope.txt", str(tmp_path))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_server_refuses_traversal_and_client_refuses_before_sending(
    live_server: LiveServer, tmp_path: Path
) -> None:
    import httpx

    raw = httpx.get(
        f"{live_server.url}/api/2.0/mlflow-artifacts/artifacts/%2e%2e/%2e%2e/etc/passwd"
    )
    assert raw.status_code == 400
    repo = get_artifact_repository("mlflow-artifacts:/6/r/artifacts", live_server.url)
    for probe in ("../../../etc/passwd", "%2e%2e/x", "/etc/passwd", "a\\..\\..\\b"):
        with pytest.raises(MlflowException) as e:
            repo.download_artifacts(probe, str(tmp_path))
        assert e.value.error_code == "INVALID_PARAMETER_VALUE"
