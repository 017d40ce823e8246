"""The artifact proxy on ``s3://bucket/prefix`` (moto's S3 server on 127.0.0.1): tracklet's proxy
client round trip, keys under the prefix, Range downloads, streamed multipart uploads, MLflow's
multipart endpoints, presigned downloads, and the path-safety rules of the local proxy."""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.live_server import serving

from tracklet.artifacts.registry import get_artifact_repository
from tracklet.artifacts.s3_objects import S3Objects, multipart_etag

from .conftest import RoundTrip

MIB = 1024 * 1024
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Proxy:
    def __init__(self, url: str, s3: Any, bucket: str) -> None:
        self.url = url
        self.s3 = s3
        self.bucket = bucket

    def keys(self) -> list[str]:
        listed = self.s3.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(o["Key"] for o in listed)

    def artifact(self, path: str) -> str:
        return f"{self.url}/api/2.0/mlflow-artifacts/artifacts/{path}"


@pytest.fixture
def proxy(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: Any
) -> Iterator[Proxy]:
    """A tracklet server (uvicorn in a thread) proxying to s3://<fresh bucket>/root."""
    from tracklet.server.app import create_app
    from tracklet.server.settings import ServerSettings

    for name, value in {**CREDENTIALS, "MLFLOW_S3_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(name, value)
    import boto3

    bucket = f"proxy-{os.getpid()}-{free_port()}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(Bucket=bucket)
    settings = ServerSettings(
        backend_store_uri=f"sqlite:///{tmp_path / 'server.db'}",
        artifacts_destination=f"s3://{bucket}/root",
        **getattr(request, "param", {}),
    )
    with serving(create_app(settings)) as port:
        yield Proxy(f"http://127.0.0.1:{port}", s3, bucket)


def test_round_trip_through_s3_proxy(proxy: Proxy, round_trip: RoundTrip) -> None:
    repo = get_artifact_repository("mlflow-artifacts:/1/run/artifacts", proxy.url)
    round_trip(repo)
    assert proxy.keys() == []  # the round trip deletes everything it wrote


def test_keys_lie_under_the_prefix_and_listing_matches(proxy: Proxy, tmp_path: Path) -> None:
    f = tmp_path / "model.pkl"
    f.write_bytes(b"\x80\x04")
    repo = get_artifact_repository("mlflow-artifacts:/7/abc/artifacts", proxy.url)
    repo.log_artifact(str(f), "sub")
    assert proxy.keys() == ["root/7/abc/artifacts/sub/model.pkl"]
    listing = httpx.get(
        f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "7/abc/artifacts/sub"}
    ).json()
    assert listing == {"files": [{"path": "model.pkl", "is_dir": False, "file_size": 2}]}
    # A file lists as itself, as the local proxy (and MLflow's) answer.
    one = httpx.get(
        f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts",
        params={"path": "7/abc/artifacts/sub/model.pkl"},
    ).json()
    assert one == {"files": [{"path": "model.pkl", "is_dir": False, "file_size": 2}]}
    info = httpx.get(f"{proxy.url}/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is True
    assert info["multipart_downloads_enabled"] is True


def test_range_downloads(proxy: Proxy) -> None:
    data = bytes(range(256)) * 40
    assert httpx.put(proxy.artifact("r/data.bin"), content=data).status_code == 200
    url = proxy.artifact("r/data.bin")
    whole = httpx.get(url)
    assert whole.status_code == 200
    assert whole.content == data
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"] == "attachment; filename=data.bin"
    assert whole.headers["content-type"] == "application/octet-stream"
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["content-range"] == f"bytes 10-19/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206
    assert tail.content == data[-5:]
    open_ended = httpx.get(url, headers={"Range": "bytes=10000-"})
    assert open_ended.content == data[10000:]
    bad = httpx.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert bad.status_code == 416
    assert bad.headers["content-range"] == f"bytes */{len(data)}"
    text = httpx.put(proxy.artifact("r/notes.txt"), content=b"hi")
    assert text.status_code == 200
    assert httpx.get(proxy.artifact("r/notes.txt")).headers["content-type"] == "text/plain"


def test_missing_and_directory_downloads(proxy: Proxy) -> None:
    httpx.put(proxy.artifact("d/x/f.txt"), content=b"x")
    missing = httpx.get(proxy.artifact("d/nope.txt"))
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    directory = httpx.get(proxy.artifact("d/x"))
    assert directory.status_code == 400
    assert "directory" in directory.json()["message"]


def test_large_streamed_upload_goes_up_in_parts(proxy: Proxy) -> None:
    """A body over one part (8 MiB) becomes a multipart upload; the bytes come back intact."""
    data = os.urandom(MIB) * 17 + b"tail"

    def body() -> Iterator[bytes]:
        for i in range(0, len(data), 300_000):
            yield data[i : i + 300_000]

    assert httpx.put(proxy.artifact("big/blob.bin"), content=body()).status_code == 200
    head = proxy.s3.head_object(Bucket=proxy.bucket, Key="root/big/blob.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # 8 + 8 + 1 MiB (and a bit) parts
    assert httpx.get(proxy.artifact("big/blob.bin")).content == data
    # Declared CRC32, as boto3's own uploads declare: each part carried one the store checked,
    # and the object keeps a CRC32 of its own.
    checked = proxy.s3.head_object(
        Bucket=proxy.bucket, Key="root/big/blob.bin", ChecksumMode="ENABLED"
    )
    assert checked.get("ChecksumCRC32")


@pytest.mark.parametrize("proxy", [{"max_artifact_bytes": 9 * MIB}], indirect=True)
def test_upload_over_the_limit_leaves_nothing(proxy: Proxy) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(20):
            yield b"\0" * MIB

    response = httpx.put(proxy.artifact("too/big.bin"), content=body())
    assert response.status_code == 413
    assert proxy.keys() == []
    assert proxy.s3.list_multipart_uploads(Bucket=proxy.bucket).get("Uploads", []) == []


def test_multipart_upload_by_tracklet_client(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """tracklet's client reads server-info, uploads in presigned parts and downloads in
    presigned byte ranges, in parallel (MLflow's flow)."""
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * MIB))
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE", str(5 * MIB))
    monkeypatch.setenv("MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE", str(MIB))
    big = tmp_path / "weights.bin"
    payload = os.urandom(MIB) * 11 + b"end"
    big.write_bytes(payload)
    repo = get_artifact_repository("mlflow-artifacts:/3/run/artifacts", proxy.url)
    repo.log_artifact(str(big), "model")
    head = proxy.s3.head_object(Bucket=proxy.bucket, Key="root/3/run/artifacts/model/weights.bin")
    assert head["ETag"].strip('"').endswith("-3")  # 5 + 5 + 1 MiB, by the client's chunk size
    dst = tmp_path / "dst"
    dst.mkdir()
    assert Path(repo.download_artifacts("model/weights.bin", str(dst))).read_bytes() == payload
    # The user's settings win over the server's offer, as with MLflow's client.
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD", "false")
    monkeypatch.setenv("MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD", "false")
    repo = get_artifact_repository("mlflow-artifacts:/3/run/artifacts", proxy.url)
    repo.log_artifact(str(big), "plain")
    head = proxy.s3.head_object(Bucket=proxy.bucket, Key="root/3/run/artifacts/plain/weights.bin")
    assert head["ETag"].strip('"').endswith("-2")  # the proxy's own 8 MiB parts
    again = tmp_path / "again"
    again.mkdir()
    assert Path(repo.download_artifacts("plain/weights.bin", str(again))).read_bytes() == payload


def test_mpu_endpoints_abort_and_validation(proxy: Proxy) -> None:
    mpu = f"{proxy.url}/api/2.0/mlflow-artifacts/mpu"
    created = httpx.post(f"{mpu}/create/x/y", json={"path": "/tmp/a.bin", "num_parts": 2}).json()
    assert [c["part_number"] for c in created["credentials"]] == [1, 2]
    assert all(c["headers"] == {} for c in created["credentials"])
    uploads = proxy.s3.list_multipart_uploads(Bucket=proxy.bucket)["Uploads"]
    assert [u["Key"] for u in uploads] == ["root/x/y/a.bin"]
    aborted = httpx.post(
        f"{mpu}/abort/x/y", json={"path": "/tmp/a.bin", "upload_id": created["upload_id"]}
    )
    assert aborted.status_code == 200
    assert proxy.s3.list_multipart_uploads(Bucket=proxy.bucket).get("Uploads", []) == []
    for path, body in [
        ("create/x", {"path": "/tmp/a.bin", "num_parts": 0}),
        ("create/x", {"path": "/tmp/a.bin", "num_parts": 10_001}),
        ("create/x", {"num_parts": 1}),
        ("create/x", {"path": "/tmp/..", "num_parts": 1}),
        ("create/..%2Fescape", {"path": "/tmp/a.bin", "num_parts": 1}),
        ("complete/x", {"path": "/tmp/a.bin", "upload_id": "u", "parts": []}),
        ("complete/x", {"path": "/tmp/a.bin", "upload_id": "u", "parts": [{"etag": "e"}]}),
        ("abort/x", {"path": "/tmp/a.bin"}),
    ]:
        response = httpx.post(f"{mpu}/{path}", json=body)
        assert response.status_code == 400, (path, body, response.text)
        assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert proxy.keys() == []


def test_presigned_download(proxy: Proxy) -> None:
    httpx.put(proxy.artifact("p/file.txt"), content=b"0123456789")
    info = httpx.get(f"{proxy.url}/api/2.0/mlflow-artifacts/presigned/p/file.txt").json()
    assert info["file_size"] == 10
    assert info["headers"] == {}
    direct = httpx.get(info["url"], headers={"Range": "bytes=2-4"})  # no credentials needed
    assert direct.status_code == 206
    assert direct.content == b"234"
    missing = httpx.get(f"{proxy.url}/api/2.0/mlflow-artifacts/presigned/p/none.txt")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    "path",
    ["../escape.txt", "a/../../escape.txt", "%2e%2e/escape.txt", "a/%252e%252e/x", "a\\b.txt"],
)
def test_no_key_escapes_the_prefix(proxy: Proxy, path: str) -> None:
    base = f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts"
    proxy.s3.put_object(Bucket=proxy.bucket, Key="escape.txt", Body=b"outside")
    for response in (
        httpx.put(f"{base}/{path}", content=b"x"),
        httpx.get(f"{base}/{path}"),
        httpx.delete(f"{base}/{path}"),
        httpx.get(base, params={"path": path}),
    ):
        assert response.status_code in (400, 404), (path, response.status_code)
        if response.status_code == 400:
            assert response.json()["message"] == "Invalid path"
    assert proxy.keys() == ["escape.txt"]


def test_root_cannot_be_deleted(proxy: Proxy) -> None:
    httpx.put(proxy.artifact("keep/me.txt"), content=b"x")
    response = httpx.delete(f"{proxy.url}/api/2.0/mlflow-artifacts/artifacts/")
    assert response.status_code in (400, 404, 405)
    assert proxy.keys() == ["root/keep/me.txt"]
    # A sibling whose name starts with the deleted one's survives (prefix/, not prefix).
    httpx.put(proxy.artifact("keep/me.txt2"), content=b"y")
    assert httpx.delete(proxy.artifact("keep/me.txt")).status_code == 200
    assert proxy.keys() == ["root/keep/me.txt2"]


@pytest.mark.parametrize("proxy", [{"presigned_urls": False}], indirect=True)
def test_no_presigned_urls_keeps_every_byte_on_the_proxy(
    proxy: Proxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--no-presigned-urls``: nothing is advertised, MLflow's 501 answers the multipart
    endpoints, and a client's large file streams through the proxy (in its own parts)."""
    info = httpx.get(f"{proxy.url}/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is False
    assert info["multipart_downloads_enabled"] is False
    created = httpx.post(
        f"{proxy.url}/api/2.0/mlflow-artifacts/mpu/create/x",
        json={"path": "/tmp/a.bin", "num_parts": 1},
    )
    assert created.status_code == 501
    assert created.json()["message"].startswith("Multipart upload is not supported")
    presigned = httpx.get(f"{proxy.url}/api/2.0/mlflow-artifacts/presigned/x/a.bin")
    assert presigned.status_code == 501
    monkeypatch.setenv("MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE", str(5 * MIB))
    big = tmp_path / "weights.bin"
    payload = os.urandom(MIB) * 11
    big.write_bytes(payload)
    repo = get_artifact_repository("mlflow-artifacts:/4/run/artifacts", proxy.url)
    repo.log_artifact(str(big))
    head = proxy.s3.head_object(Bucket=proxy.bucket, Key="root/4/run/artifacts/weights.bin")
    assert head["ETag"].strip('"').endswith("-2")  # the proxy's 8 MiB parts
    dst = tmp_path / "dst"
    dst.mkdir()
    assert Path(repo.download_artifacts("weights.bin", str(dst))).read_bytes() == payload


class _LostAnswer:
    """A boto3 client whose CompleteMultipartUpload fails after (or instead of) doing it."""

    def __init__(self, s3: Any, completes: bool) -> None:
        self.s3 = s3
        self.completes = completes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)

    def complete_multipart_upload(self, **kwargs: Any) -> None:
        if self.completes:
            self.s3.complete_multipart_upload(**kwargs)
        raise ConnectionError("connection reset")


def _upload_part(proxy: Proxy, key: str, upload_id: str, number: int, data: bytes) -> str:
    etag: str = proxy.s3.upload_part(
        Bucket=proxy.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data
    )["ETag"]
    return etag


def test_complete_whose_answer_was_lost(proxy: Proxy) -> None:
    """A CompleteMultipartUpload whose answer is lost (after botocore's retries) has succeeded
    if the object is made of exactly its parts; otherwise the error stands."""
    for completes in (True, False):
        objects = S3Objects(f"s3://{proxy.bucket}/root", _LostAnswer(proxy.s3, completes))
        key = f"m/{completes}.bin"
        upload_id = objects.create_multipart(key)
        parts = [b"a" * (5 * MIB), b"b"]
        etags = [  # as a client sends them, to presigned part URLs
            (n, _upload_part(proxy, f"root/{key}", upload_id, n, p)) for n, p in enumerate(parts, 1)
        ]
        assert [e.strip('"') for _, e in etags] == [hashlib.md5(p).hexdigest() for p in parts]
        if completes:
            objects.complete_multipart(key, upload_id, etags)
            head = proxy.s3.head_object(Bucket=proxy.bucket, Key=f"root/{key}")
            assert head["ETag"].strip('"') == multipart_etag(etags)
        else:
            with pytest.raises(ConnectionError):
                objects.complete_multipart(key, upload_id, etags)
            objects.abort_multipart(key, upload_id)
