"""``HTTPDatasetSource``: a dataset at an http(s) URL."""

from __future__ import annotations

import os
import re
import tempfile
import urllib.parse
from typing import Any

from tracklet.data.dataset_source import DatasetSource
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


class HTTPDatasetSource(DatasetSource):
    """A dataset stored at a web location, referred to by an HTTP or HTTPS URL."""

    def __init__(self, url: str) -> None:
        self._url = url

    @property
    def url(self) -> str:
        """The HTTP/S URL of the dataset."""
        return self._url

    @staticmethod
    def _get_source_type() -> str:
        return "http"

    def load(self, dst_path: str | None = None) -> str:
        """Download the dataset to ``dst_path`` (a new temporary directory if None).

        Args:
            dst_path: Local directory to download into.

        Returns:
            The local path of the downloaded file.
        """
        import httpx

        with httpx.stream("GET", self.url, follow_redirects=True) as response:
            response.raise_for_status()
            disposition = response.headers.get("Content-Disposition")
            basename = self._filename(disposition) or "dataset_source"
            directory = dst_path if dst_path is not None else tempfile.mkdtemp()
            os.makedirs(directory, exist_ok=True)
            path = os.path.join(directory, basename)
            with open(path, "wb") as f:
                for chunk in response.iter_bytes(1024 * 1024):
                    f.write(chunk)
        return path

    def _filename(self, content_disposition: str | None) -> str:
        if content_disposition:
            for match in re.finditer(r"filename=(.+)", content_disposition):
                filename = match[1].strip("'\"")
                if os.path.basename(filename) != filename:  # never write outside dst_path
                    raise MlflowException.invalid_parameter_value(
                        f"Invalid filename in Content-Disposition header: {filename}. "
                        "It must be a file name, not a path."
                    )
                return filename
        return os.path.basename(urllib.parse.urlparse(self.url).path)

    @staticmethod
    def _can_resolve(raw_source: Any) -> bool:
        if not isinstance(raw_source, str):
            return False
        try:
            return urllib.parse.urlparse(raw_source).scheme in ("http", "https")
        except Exception:
            return False

    @classmethod
    def _resolve(cls, raw_source: Any) -> HTTPDatasetSource:
        return cls(raw_source)

    def to_dict(self) -> dict[Any, Any]:
        return {"url": self.url}

    @classmethod
    def from_dict(cls, source_dict: dict[Any, Any]) -> HTTPDatasetSource:
        url = source_dict.get("url")
        if url is None:
            raise MlflowException(
                'Failed to parse HTTPDatasetSource. Missing expected key: "url"',
                INVALID_PARAMETER_VALUE,
            )
        return cls(url=url)
