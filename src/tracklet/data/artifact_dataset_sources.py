"""One ``FileSystemDatasetSource`` per artifact-store URI scheme, named as MLflow names them.

MLflow derives these classes from its artifact-repository registry, excluding the schemes that
are not plain storage (http(s) has its own source; runs:/, models:/, mlflow-artifacts:/ and
dbfs:/ resolve to nothing). The list below is that registry's result for MLflow 3.
"""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import Any

from tracklet.data.filesystem_dataset_source import FileSystemDatasetSource
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


def is_local_uri(uri: str) -> bool:
    """MLflow's ``is_local_uri(uri, is_tracking_or_registry_uri=False)`` (POSIX paths).

    Raises:
        MlflowException: For a ``file:`` URI naming a remote host.
    """
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme == "":
        return True
    host = parsed.hostname
    is_remote_host = bool(host) and not (
        host == "." or str(host).startswith("localhost") or str(host).startswith("127.0.0.1")
    )
    if parsed.scheme == "file":
        if is_remote_host:
            raise MlflowException(f"{uri} is not a valid remote uri.", INVALID_PARAMETER_VALUE)
        return True
    return False


class _ArtifactDatasetSource(FileSystemDatasetSource):
    """A dataset at ``uri`` whose scheme is ``_scheme`` (``""`` for local paths)."""

    _scheme = ""
    _source_type = "local"

    def __init__(self, uri: str) -> None:
        self._uri = uri

    @property
    def uri(self) -> str:
        return self._uri

    @classmethod
    def _get_source_type(cls) -> str:
        return cls._source_type

    @classmethod
    def _can_resolve(cls, raw_source: Any) -> bool:
        is_local = cls._source_type == "local"
        # MLflow's test, quirks included: only local sources reject non-string, non-Path values.
        if not isinstance(raw_source, str) and (not isinstance(raw_source, Path) and is_local):
            return False
        try:
            if is_local:
                return is_local_uri(str(raw_source))
            return urllib.parse.urlparse(str(raw_source)).scheme == cls._scheme
        except Exception:
            return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> _ArtifactDatasetSource:
        return cls(str(raw_source))

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> _ArtifactDatasetSource:
        uri = source_dict.get("uri")
        if uri is None:
            raise MlflowException(
                f'Failed to parse {cls.__name__}. Missing expected key: "uri"',
                INVALID_PARAMETER_VALUE,
            )
        return cls(uri=uri)

    def load(self, dst_path: str | None = None) -> str:
        """Download the dataset to ``dst_path`` (a new temporary directory if None).

        Args:
            dst_path: Local directory to download into. For local sources with no
                ``dst_path``, the source's own path is returned.

        Returns:
            The local path of the downloaded file or directory.
        """
        from tracklet.artifacts import download_artifacts

        return download_artifacts(artifact_uri=self.uri, dst_path=dst_path)


def _make(name: str, scheme: str) -> type[_ArtifactDatasetSource]:
    source_type = "local" if scheme in ("", "file") else scheme
    doc = (
        "Represents the source of a dataset stored on the local filesystem."
        if source_type == "local"
        else "Represents a filesystem-based or blob-storage-based dataset source identified by"
        f" a URI with scheme '{scheme}'."
    )
    attrs = {"_scheme": scheme, "_source_type": source_type, "__doc__": doc}
    return type(name, (_ArtifactDatasetSource,), attrs)


LocalArtifactDatasetSource = _make("LocalArtifactDatasetSource", "")
S3ArtifactDatasetSource = _make("S3ArtifactDatasetSource", "s3")
R2ArtifactDatasetSource = _make("R2ArtifactDatasetSource", "r2")
B2ArtifactDatasetSource = _make("B2ArtifactDatasetSource", "b2")
GCSArtifactDatasetSource = _make("GCSArtifactDatasetSource", "gs")
AzureBlobArtifactDatasetSource = _make("AzureBlobArtifactDatasetSource", "wasbs")
FTPArtifactDatasetSource = _make("FTPArtifactDatasetSource", "ftp")
SFTPArtifactDatasetSource = _make("SFTPArtifactDatasetSource", "sftp")
HdfsArtifactDatasetSource = _make("HdfsArtifactDatasetSource", "hdfs")
# MLflow registers HDFS's repository under a second scheme; the class keeps HDFS's name.
ViewfsArtifactDatasetSource = _make("HdfsArtifactDatasetSource", "viewfs")
AzureDataLakeArtifactDatasetSource = _make("AzureDataLakeArtifactDatasetSource", "abfss")

# In MLflow's registration order: when several match, the last one wins.
ARTIFACT_DATASET_SOURCES: tuple[type[_ArtifactDatasetSource], ...] = (
    LocalArtifactDatasetSource,
    S3ArtifactDatasetSource,
    R2ArtifactDatasetSource,
    B2ArtifactDatasetSource,
    GCSArtifactDatasetSource,
    AzureBlobArtifactDatasetSource,
    FTPArtifactDatasetSource,
    SFTPArtifactDatasetSource,
    HdfsArtifactDatasetSource,
    ViewfsArtifactDatasetSource,
    AzureDataLakeArtifactDatasetSource,
)
