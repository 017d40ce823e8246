"""Artifacts on the local file system: plain paths and ``file://`` URIs."""

from __future__ import annotations

import os
import posixpath
import shutil
import urllib.parse
import urllib.request

from tracklet.artifacts.atomic import replaced_on_success
from tracklet.artifacts.base import ArtifactRepository, not_found, relative_artifact_path
from tracklet.artifacts.paths import safe_join
from tracklet.entities.file_info import FileInfo
from tracklet.exceptions import MlflowException


def local_path_of(uri: str) -> str:
    """The file system path of a plain path or a ``file:`` URI."""
    if uri.startswith("file:"):
        parsed = urllib.parse.urlparse(uri)
        if parsed.netloc and parsed.netloc != "localhost":
            # file://host/share: a UNC path on Windows; kept as written elsewhere.
            return urllib.request.url2pathname(f"//{parsed.netloc}{parsed.path}")
        return urllib.request.url2pathname(parsed.path)
    return uri


def _copy(src: str, dst: str) -> None:
    # Through a temporary name: a failed copy never leaves an empty or truncated artifact.
    with replaced_on_success(dst) as temporary:
        # copyfile streams (sendfile where available); the artifact is never read whole.
        shutil.copyfile(src, temporary)


class LocalArtifactRepository(ArtifactRepository):
    """Artifacts in a local directory (created on first write)."""

    def __init__(self, artifact_uri: str) -> None:
        super().__init__(artifact_uri)
        self.root = os.path.abspath(local_path_of(artifact_uri))

    def _path(self, relative: str) -> str:
        return safe_join(self.root, relative)

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        directory = relative_artifact_path(artifact_path)
        target = self._path(posixpath.join(directory, os.path.basename(local_file)))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        _copy(local_file, target)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = relative_artifact_path(path)
        directory = self._path(relative)
        if not os.path.isdir(directory):
            return []
        infos = []
        with os.scandir(directory) as entries:
            for entry in entries:
                entry_path = posixpath.join(relative, entry.name) if relative else entry.name
                try:
                    self._path(entry_path)
                except MlflowException:
                    continue  # e.g. a symlink out of the root: not part of the artifacts
                if entry.is_dir():
                    infos.append(FileInfo(entry_path, True, None))
                else:
                    infos.append(FileInfo(entry_path, False, entry.stat().st_size))
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        source = self._path(remote_file_path)
        if not os.path.isfile(source):
            raise not_found(remote_file_path, self.artifact_uri)
        _copy(source, local_path)

    def download_artifacts(self, artifact_path: str, dst_path: str | None = None) -> str:
        """Without ``dst_path`` the artifact is already local: its path is returned, as in
        MLflow; with one, it is copied there."""
        if dst_path is not None:
            return super().download_artifacts(artifact_path, dst_path)
        local = self._path(relative_artifact_path(artifact_path))
        if not os.path.exists(local):
            raise not_found(artifact_path, self.artifact_uri)
        return local

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        local = self._path(relative_artifact_path(artifact_path))
        if os.path.isdir(local) and not os.path.islink(local):
            shutil.rmtree(local)
        elif os.path.lexists(local):
            os.remove(local)
