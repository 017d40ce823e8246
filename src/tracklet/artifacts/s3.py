"""Artifacts in S3 (``s3://bucket/prefix``) through boto3.

Honours ``MLFLOW_S3_ENDPOINT_URL`` (S3-compatible stores such as MinIO) and
``MLFLOW_S3_IGNORE_TLS``. Files of at least ``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` bytes
go up as multipart uploads of ``MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE`` parts; uploads and
downloads stream from and to disk.
"""

from __future__ import annotations

import os
import posixpath
import urllib.parse
from typing import Any

from tracklet import env
from tracklet.artifacts import settings
from tracklet.artifacts.base import ArtifactRepository, not_found, relative_artifact_path
from tracklet.entities.file_info import FileInfo
from tracklet.exceptions import MlflowException

_DELETE_BATCH = 1000  # S3's DeleteObjects limit


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key prefix without slashes at either end) of ``s3://bucket/prefix``."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise MlflowException.invalid_parameter_value(f"Not an s3://bucket/path URI: {uri}")
    return parsed.netloc, parsed.path.strip("/")


def _client() -> Any:
    import boto3  # optional dependency (extra "s3"); imported on first S3 use

    verify = not env.MLFLOW_S3_IGNORE_TLS.get()
    return boto3.client("s3", endpoint_url=env.MLFLOW_S3_ENDPOINT_URL.get(), verify=verify)


def _transfer_config() -> Any:
    from boto3.s3.transfer import TransferConfig

    return TransferConfig(
        multipart_threshold=settings.MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE.get(),
        multipart_chunksize=settings.MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE.get(),
    )


class S3ArtifactRepository(ArtifactRepository):
    """Artifacts under ``s3://bucket/prefix``."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.bucket, self.prefix = parse_s3_uri(artifact_uri)
        self._s3: Any = None

    @property
    def s3(self) -> Any:
        if self._s3 is None:
            self._s3 = _client()
        return self._s3

    def _key(self, relative: str) -> str:
        return posixpath.join(self.prefix, relative) if relative else self.prefix

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        directory = relative_artifact_path(artifact_path)
        key = self._key(posixpath.join(directory, os.path.basename(local_file)))
        self.s3.upload_file(local_file, self.bucket, key, Config=_transfer_config())

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = relative_artifact_path(path)
        dir_key = self._key(relative)
        prefix = f"{dir_key}/" if dir_key else ""
        infos: list[FileInfo] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                name = common["Prefix"][len(prefix) :].rstrip("/")
                infos.append(FileInfo(_child(relative, name), True, None))
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix) :]
                if name:  # the directory marker object itself
                    infos.append(FileInfo(_child(relative, name), False, int(obj["Size"])))
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.s3.download_file(
                self.bucket, self._key(remote_file_path), local_path, Config=_transfer_config()
            )
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                raise not_found(remote_file_path, self.artifact_uri) from None
            raise

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        key = self._key(relative_artifact_path(artifact_path))
        keys: list[str] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{key}/" if key else ""):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        if key:
            keys.append(key)  # the path may name a single object
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})


def _child(directory: str, name: str) -> str:
    return posixpath.join(directory, name) if directory else name
