"""S3ArtifactRepository against moto's S3 server on 127.0.0.1 (never the network)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tracklet as mlflow
from tracklet.artifacts.registry import get_artifact_repository
from tracklet.artifacts.s3 import S3ArtifactRepository, parse_s3_uri
from tracklet.exceptions import MlflowException

from .conftest import RoundTrip, tree_of

BUCKET = "tracklet-test"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 client on an empty bucket; MLFLOW_S3_ENDPOINT_URL points tracklet at moto."""
    import boto3

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_S3_ENDPOINT_URL": moto_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    client = boto3.client("s3", endpoint_url=moto_endpoint)
    existing = client.list_objects_v2(Bucket=BUCKET) if _bucket_exists(client) else None
    if existing is None:
        client.create_bucket(Bucket=BUCKET)
    else:
        for obj in existing.get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    return client


def _bucket_exists(client: Any) -> bool:
    return any(b["Name"] == BUCKET for b in client.list_buckets().get("Buckets", []))


def test_parse_s3_uri() -> None:
    assert parse_s3_uri("s3://b/a/b/") == ("b", "a/b")
    assert parse_s3_uri("s3://b") == ("b", "")
    with pytest.raises(MlflowException):
        parse_s3_uri("s3:///nobucket")


def test_round_trip(s3: Any, round_trip: RoundTrip) -> None:
    repo = get_artifact_repository(f"s3://{BUCKET}/exp/1/run/artifacts")
    assert isinstance(repo, S3ArtifactRepository)
    round_trip(repo)


def test_round_trip_at_bucket_root(s3: Any, round_trip: RoundTrip) -> None:
    round_trip(S3ArtifactRepository(f"s3://{BUCKET}"))


def test_keys_follow_the_artifact_layout(s3: Any, tmp_path: Path) -> None:
    f = tmp_path / "model.pkl"
    f.write_bytes(b"\x80\x04")
    S3ArtifactRepository(f"s3://{BUCKET}/1/models/m-1/artifacts").log_artifact(str(f), "sub")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["1/models/m-1/artifacts/sub/model.pkl"]


def test_big_files_go_up_as_multipart_uploads(
    s3: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mib = 1024 * 1024
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * mib))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * mib))
    big = tmp_path / "big.bin"
    payload = bytes(range(256)) * (11 * mib // 256) + b"tail"
    big.write_bytes(payload)
    repo = S3ArtifactRepository(f"s3://{BUCKET}/mp")
    repo.log_artifact(str(big))
    head = s3.head_object(Bucket=BUCKET, Key="mp/big.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 1 MiB parts
    dst = tmp_path / "dst"
    dst.mkdir()
    assert Path(repo.download_artifacts("big.bin", str(dst))).read_bytes() == payload


def test_missing_object_is_resource_does_not_exist(s3: Any, tmp_path: Path) -> None:
    with pytest.raises(MlflowException) as e:
        S3ArtifactRepository(f"s3://{BUCKET}/x").download_artifacts("nope.txt", str(tmp_path))
    assert e.value.error_code == "RESOURCE_DOES_NOT_EXIST"


def test_runs_of_an_s3_experiment_log_and_download(
    s3: Any, sqlite_uri: str, tmp_path: Path, sample_dir: Path
) -> None:
    mlflow.set_tracking_uri(sqlite_uri)
    experiment_id = mlflow.create_experiment("s3-exp", artifact_location=f"s3://{BUCKET}/exp")
    mlflow.set_experiment(experiment_id=experiment_id)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(sample_dir), "data")
        mlflow.log_text("hi", "hello.txt")
        assert mlflow.get_artifact_uri() == f"s3://{BUCKET}/exp/{run.info.run_id}/artifacts"
    got = mlflow.artifacts.download_artifacts(
        f"runs:/{run.info.run_id}/data", dst_path=str(tmp_path / "dl")
    )
    assert tree_of(Path(got)) == tree_of(sample_dir)
    assert (
        mlflow.artifacts.load_text(f"{mlflow.get_run(run.info.run_id).info.artifact_uri}/hello.txt")
        == "hi"
    )
