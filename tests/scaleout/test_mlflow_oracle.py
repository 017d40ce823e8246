"""MLflow 3.17.2's client, holding no S3 credentials, logs and downloads artifacts (small, and
large enough to go multipart) through ``tracklet server --artifacts-destination s3://...`` on
moto's S3 server; ``mlflow server`` on the same bucket and prefix reads what tracklet wrote, and
tracklet's server reads what MLflow's wrote."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import (
    free_port,
    make_bucket,
    mlflow_argv,
    server_env,
    start_process,
    stop_process,
    tracklet_argv,
    wait_healthy,
)

BUCKET = "oracle"
MIB = 1024 * 1024
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(s3_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A tracklet server and an MLflow server, each on its own database, one S3 destination."""
    make_bucket(s3_endpoint, BUCKET)
    base = tmp_path_factory.mktemp("oracle")
    destination = f"s3://{BUCKET}/artifacts"
    env = server_env(s3_endpoint, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    ports = {"tracklet": free_port(), "mlflow": free_port()}
    procs = [
        start_process(
            tracklet_argv(
                "server",
                "--backend-store-uri",
                f"sqlite:///{base / 'tracklet.db'}",
                "--artifacts-destination",
                destination,
                "--port",
                str(ports["tracklet"]),
            ),
            env,
            base,
            base / "tracklet.log",
        ),
        start_process(
            mlflow_argv(
                "server",
                "--backend-store-uri",
                f"sqlite:///{base / 'mlflow.db'}",
                "--artifacts-destination",
                destination,
                "--host",
                "127.0.0.1",
                "--port",
                str(ports["mlflow"]),
                "--workers",
                "1",
            ),
            env,
            base,
            base / "mlflow.log",
        ),
    ]
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for proc, url in zip(procs, urls.values(), strict=True):
            wait_healthy(url, proc, timeout=120)
        yield urls
    finally:
        for proc in procs:
            stop_process(proc)


@pytest.fixture
def no_s3_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The client process can reach S3's endpoint (presigned URLs) but holds no credentials."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # Multipart from 5 MiB (S3's smallest part) in 5 MiB parts; downloads in 2 MiB ranges.
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * MIB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MIB))
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(2 * MIB))


def _files(tmp_path: Path) -> dict[str, bytes]:
    src = tmp_path / "src"
    (src / "model").mkdir(parents=True)
    files = {
        "notes.txt": b"small artifact\n",
        "model/weights.bin": os.urandom(MIB) * 11 + b"tail",  # 3 parts of 5 MiB
    }
    for name, data in files.items():
        (src / name).write_bytes(data)
    return files


def _log(tracking_uri: str, src: Path) -> str:
    """Log ``src`` into a new run with MLflow's client; the run's artifact URI."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    client = mlflow.MlflowClient(tracking_uri)
    experiment = client.create_experiment(f"oracle-{os.urandom(4).hex()}")
    run = client.create_run(experiment)
    client.log_artifact(run.info.run_id, str(src / "notes.txt"))
    client.log_artifacts(run.info.run_id, str(src / "model"), "model")
    uri: str = run.info.artifact_uri
    assert uri.startswith("mlflow-artifacts:/")
    return uri


def _read_through(server: str, artifact_uri: str, dst: Path) -> dict[str, bytes]:
    """Every file under ``artifact_uri`` as MLflow's client downloads it from ``server``."""
    import mlflow

    path = artifact_uri[len("mlflow-artifacts:") :].lstrip("/")
    host = server[len("http://") :]
    local = Path(
        mlflow.artifacts.download_artifacts(
            artifact_uri=f"mlflow-artifacts://{host}/{path}", dst_path=str(dst)
        )
    )
    return {
        p.relative_to(local).as_posix(): p.read_bytes() for p in local.rglob("*") if p.is_file()
    }


def _listing(server: str, artifact_uri: str, sub: str) -> list[tuple[str, bool, Any]]:
    import mlflow

    path = artifact_uri[len("mlflow-artifacts:") :].lstrip("/")
    host = server[len("http://") :]
    infos = mlflow.artifacts.list_artifacts(
        artifact_uri=f"mlflow-artifacts://{host}/{path}/{sub}".rstrip("/")
    )
    return [(i.path, i.is_dir, i.file_size) for i in infos]


def _etag(s3_endpoint: str, artifact_uri: str, name: str) -> str:
    from .conftest import s3_client

    key = f"artifacts/{artifact_uri[len('mlflow-artifacts:') :].lstrip('/')}/{name}"
    etag: str = s3_client(s3_endpoint).head_object(Bucket=BUCKET, Key=key)["ETag"]
    return etag.strip('"')


@pytest.mark.usefixtures("no_s3_credentials")
def test_mlflow_client_through_tracklet_and_cross_reads(
    servers: dict[str, str], s3_endpoint: str, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    by_tracklet = _log(servers["tracklet"], tmp_path / "src")
    # The big file went up as a multipart upload of MLflow's client-side parts.
    assert _etag(s3_endpoint, by_tracklet, "model/weights.bin").endswith("-3")
    assert _etag(s3_endpoint, by_tracklet, "notes.txt").count("-") == 0
    by_mlflow = _log(servers["mlflow"], tmp_path / "src")
    assert _etag(s3_endpoint, by_mlflow, "model/weights.bin").endswith("-3")

    for n, (server, uri) in enumerate(
        [
            (servers["tracklet"], by_tracklet),  # written and read through tracklet
            (servers["mlflow"], by_tracklet),  # MLflow's server reads what tracklet wrote
            (servers["tracklet"], by_mlflow),  # and tracklet's what MLflow's wrote
        ]
    ):
        dst = tmp_path / f"dst{n}"
        dst.mkdir()
        assert _read_through(server, uri, dst) == files, (server, uri)

    for sub in ("", "model"):
        assert _listing(servers["tracklet"], by_mlflow, sub) == _listing(
            servers["mlflow"], by_mlflow, sub
        )
    assert _listing(servers["tracklet"], by_tracklet, "model") == [
        ("model/weights.bin", False, len(files["model/weights.bin"]))
    ]


@pytest.mark.usefixtures("no_s3_credentials")
def test_mlflow_client_without_presigned_transfers(
    servers: dict[str, str], s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Told not to use multipart, MLflow's client streams everything through tracklet's proxy,
    which uploads the large file to S3 in its own parts."""
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    files = _files(tmp_path)
    uri = _log(servers["tracklet"], tmp_path / "src")
    assert _etag(s3_endpoint, uri, "model/weights.bin").endswith("-2")  # the proxy's 8 MiB parts
    dst = tmp_path / "dst"
    dst.mkdir()
    assert _read_through(servers["tracklet"], uri, dst) == files
    dst2 = tmp_path / "dst2"
    dst2.mkdir()
    assert _read_through(servers["mlflow"], uri, dst2) == files
