"""The interface every artifact repository implements, and the download logic they share.

A repository is rooted at one artifact URI (a run's ``artifact_uri``, a logged model's
``artifact_location``, ...). Every path a caller passes is relative to that root and is checked
with :func:`tracklet.artifacts.paths.validate_relative_path`; every local file a download writes
is placed with :func:`tracklet.artifacts.paths.safe_join`, so neither a crafted argument nor a
crafted listing from a remote store can reach outside the root or the destination directory.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from abc import ABC, abstractmethod

from tracklet.artifacts.paths import safe_join, validate_relative_path
from tracklet.entities.file_info import FileInfo
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

# Bytes moved per read/write when streaming a file; nothing holds a whole artifact in memory.
CHUNK_SIZE = 1024 * 1024


def relative_artifact_path(path: str | None) -> str:
    """``path`` checked and normalised ('' for the root)."""
    return validate_relative_path(path) if path else ""


def walk_local_dir(local_dir: str, artifact_path: str | None) -> list[tuple[str, str]]:
    """(local file, artifact directory) for every file under ``local_dir``, as
    ``log_artifacts`` uploads them (the directory's contents, not the directory itself)."""
    base = relative_artifact_path(artifact_path)
    local_dir = os.path.abspath(local_dir)
    pairs: list[tuple[str, str]] = []
    for root, dirs, files in os.walk(local_dir):
        dirs.sort()
        rel = os.path.relpath(root, local_dir)
        rel = "" if rel == "." else rel.replace(os.sep, "/")
        target = posixpath.join(base, rel) if rel else base
        pairs.extend((os.path.join(root, name), target) for name in sorted(files))
    return pairs


class ArtifactRepository(ABC):
    """Files under one artifact URI: upload, list, download, delete.

    Args:
        artifact_uri: The root every path of this repository is relative to.
    """

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri

    @abstractmethod
    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        """Upload one local file into the directory ``artifact_path`` (the root if None)."""

    def log_artifacts(self, local_dir: str, artifact_path: str | None = None) -> None:
        """Upload the contents of ``local_dir`` into the directory ``artifact_path``."""
        for local_file, target in walk_local_dir(local_dir, artifact_path):
            self.log_artifact(local_file, target or None)

    @abstractmethod
    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """The direct children of directory ``path``, sorted by path; [] for a file or
        a missing path. Entry paths are relative to the repository root."""

    @abstractmethod
    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        """Stream one file (``remote_file_path`` already validated) to ``local_path``."""

    @abstractmethod
    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        """Delete a file or a directory tree (everything under the root if None)."""

    def _is_directory(self, path: str) -> bool:
        return not path or bool(self.list_artifacts(path))

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Download a file or a directory tree and return its local path.

        Args:
            artifact_path: Relative path of a file or directory ('' for everything).
            dst_path: Existing local directory to download into; a new temporary directory
                if None.

        Returns:
            The local path of the downloaded file or directory.
        """
        relative = relative_artifact_path(artifact_path)
        if dst_path is None:
            dst_path = tempfile.mkdtemp(prefix="tracklet-artifacts-")
        elif not os.path.isdir(dst_path):
            raise MlflowException.invalid_parameter_value(
                f"The destination path for downloaded artifacts does not exist or is not a "
                f"directory: {dst_path}"
            )
        dst_path = os.path.abspath(dst_path)
        if self._is_directory(relative):
            self._download_tree(relative, dst_path)
            local = safe_join(dst_path, relative)
            os.makedirs(local, exist_ok=True)
            return local
        local = safe_join(dst_path, relative)
        os.makedirs(os.path.dirname(local), exist_ok=True)
        self._download_file(relative, local)
        return local

    def _download_tree(self, directory: str, dst_root: str) -> None:
        pending = [directory]
        while pending:
            current = pending.pop()
            os.makedirs(safe_join(dst_root, current), exist_ok=True)
            for info in self.list_artifacts(current or None):
                # A listing comes from outside (a server, a bucket): it is checked like an
                # argument before anything is written.
                entry = validate_relative_path(info.path)
                if posixpath.dirname(entry) != current or entry == current:
                    raise MlflowException(
                        f"Artifact listing of {current!r} returned {info.path!r}, which is not "
                        "one of its entries"
                    )
                if info.is_dir:
                    pending.append(entry)
                else:
                    self._download_file(entry, safe_join(dst_root, entry))


def not_found(path: str, root: str) -> MlflowException:
    return MlflowException(f"No such artifact: {path!r} under {root}", RESOURCE_DOES_NOT_EXIST)
