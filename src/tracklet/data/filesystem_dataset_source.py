"""``FileSystemDatasetSource``: a dataset stored at a filesystem or blob-storage URI."""

from __future__ import annotations

from typing import Any

from tracklet.data.dataset_source import DatasetSource


class FileSystemDatasetSource(DatasetSource):
    """A source on a local filesystem or in blob storage (S3, GCS, ...), named by ``uri``."""

    @property
    def uri(self) -> str:
        """The URI or path of the dataset, e.g. ``"s3://bucket/iris.csv"``."""
        raise NotImplementedError

    def load(self, dst_path: str | None = None) -> str:
        """Download the source to the local filesystem and return the local path."""
        raise NotImplementedError

    def to_dict(self) -> dict[Any, Any]:
        return {"uri": self.uri}
