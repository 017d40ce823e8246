"""tracklet's proxy client against MLflow's own server (test-only dependency), whose artifacts
destination is moto's S3 on 127.0.0.1: the protocol matches the reference implementation, and
multipart uploads go through the server's presigned part URLs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tracklet.artifacts.registry import get_artifact_repository

from .conftest import RoundTrip

BUCKET = "mlflow-proxy"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "MLFLOW_S3_ENDPOINT_URL": endpoint,
    }


@pytest.fixture(scope="module")
def mlflow_server(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import boto3

    boto3.client("s3", endpoint_url=s3_endpoint, **_credentials()).create_bucket(Bucket=BUCKET)
    base = tmp_path_factory.mktemp("mlflow-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # No background job runners: they cost start-up time and nothing here uses them.
    env = {**os.environ, **_aws_env(s3_endpoint), "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    proc = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "mlflow"),
            "server",
            "--backend-store-uri",
            f"sqlite:///{base / 'mlflow.db'}",
            "--artifacts-destination",
            f"s3://{BUCKET}/root",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=base,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the server and its workers
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, "mlflow server exited"
        assert time.monotonic() < deadline, "mlflow server did not start"
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _credentials() -> dict[str, str]:
    return {
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
        "region_name": "us-east-1",
    }


def test_round_trip_against_mlflow_proxy(mlflow_server: str, round_trip: RoundTrip) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/1/run/artifacts", mlflow_server)
    round_trip(repo, empty_file_size=None)


def test_multipart_upload_through_mlflow_proxy(
    mlflow_server: str, s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    mib = 1024 * 1024
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "true")
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * mib))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * mib))
    big = tmp_path / "big.bin"
    payload = os.urandom(mib) * 11 + b"end"
    big.write_bytes(payload)
    repo = get_artifact_repository("mlflow-artifacts:/2/run/artifacts", mlflow_server)
    repo.log_artifact(str(big), "weights")
    s3: Any = boto3.client("s3", endpoint_url=s3_endpoint, **_credentials())
    head = s3.head_object(Bucket=BUCKET, Key="root/2/run/artifacts/weights/big.bin")
    assert head["ETag"].strip('"').endswith("-3")
    dst = tmp_path / "dst"
    dst.mkdir()
    assert Path(repo.download_artifacts("weights/big.bin", str(dst))).read_bytes() == payload
