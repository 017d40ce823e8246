"""The artifact proxy's storage: the interface every destination implements, and the local one.

:class:`ProxyArtifacts` is what the proxy routes call; :class:`LocalArtifacts` serves a local
directory and :class:`tracklet.server.artifact_s3.S3Artifacts` an ``s3://bucket/prefix``
(``server.app.open_proxy`` picks one for ``--artifacts-destination``). Every client-supplied path is
checked by :func:`tracklet.artifacts.paths.validate_relative_path` (and, locally, joined with
:func:`tracklet.artifacts.paths.safe_join`), so nothing outside the destination is read, written,
listed or deleted; local listings also leave out symlinks that lead outside the root. Uploads
stream to a temporary file (or to parts of a multipart upload) and appear whole when complete,
so a reader never sees half a file.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any, Protocol

from starlette.responses import Response

from tracklet.artifacts.atomic import replaced_on_success
from tracklet.artifacts.paths import safe_join, validate_relative_path
from tracklet.exceptions import (
    INVALID_PARAMETER_VALUE,
    NOT_IMPLEMENTED,
    RESOURCE_DOES_NOT_EXIST,
    MlflowException,
)
from tracklet.server.downloads import send_file
from tracklet.server.settings import local_path
from tracklet.uri import check_artifact_location, has_scheme


class UploadTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"Artifact upload exceeds the server's limit of {limit} bytes")
        self.limit = limit


class ProxyArtifacts(Protocol):
    """Where the artifact proxy keeps bytes: the operations its routes need."""

    def resolve(self, path: str) -> str:
        """Check a client path (INVALID_PARAMETER_VALUE "Invalid path" if it leaves the root)."""

    def list(self, path: str) -> list[dict[str, Any]]:
        """Entries of ``path`` as MLflow's proxy lists them: basenames, dirs without sizes; a
        file lists as itself; [] if nothing is there."""

    def download_response(self, path: str, name: str, range_header: str | None) -> Response:
        """A streamed download of the file ``path`` (Range honoured), named ``name``."""

    async def upload(self, path: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Stream ``chunks`` into the file ``path``; returns its size."""

    def delete(self, path: str) -> None:
        """Delete a file or a directory tree (never the root)."""


def _relative(path: str) -> str:
    """``validate_relative_path`` answering MLflow's server text ("Invalid path"): clients and
    MLflow's tests match it, and it says nothing about the server's layout."""
    try:
        return validate_relative_path(path)
    except MlflowException:
        raise MlflowException("Invalid path", INVALID_PARAMETER_VALUE) from None


def _inside(root_real: str, path: str) -> bool:
    resolved = os.path.realpath(path)
    return resolved == root_real or resolved.startswith(root_real + os.sep)


class LocalArtifacts:
    """A local artifact root (the proxy's ``--artifacts-destination``, or a run's file root)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def resolve(self, path: str) -> str:
        """The local path of a client path; INVALID_PARAMETER_VALUE if it leaves the root."""
        _relative(path)
        try:
            return safe_join(self.root, path)
        except MlflowException:
            raise MlflowException("Invalid path", INVALID_PARAMETER_VALUE) from None

    def list(self, path: str) -> list[dict[str, Any]]:
        """Entries of ``path`` as MLflow's proxy lists them: basenames, dirs without sizes."""
        target = self.resolve(path)
        if os.path.isfile(target):
            return [
                {
                    "path": os.path.basename(target),
                    "is_dir": False,
                    "file_size": os.path.getsize(target),
                }
            ]
        if not os.path.isdir(target):
            return []
        root_real = os.path.realpath(self.root)
        files: list[dict[str, Any]] = []
        with os.scandir(target) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_symlink() and not _inside(root_real, entry.path):
                    continue  # never reveal anything about what lies outside the root
                if entry.is_dir():
                    files.append({"path": entry.name, "is_dir": True})
                else:
                    files.append(
                        {"path": entry.name, "is_dir": False, "file_size": entry.stat().st_size}
                    )
        return files

    def download_response(self, path: str, name: str, range_header: str | None) -> Response:
        """The file with MLflow's headers; Starlette's FileResponse answers Range itself."""
        return send_file(self.file_for_download(path), name)

    def file_for_download(self, path: str) -> str:
        target = self.resolve(path)
        if os.path.isdir(target):
            raise MlflowException(
                f"Cannot download '{path}': it is a directory", INVALID_PARAMETER_VALUE
            )
        if not os.path.isfile(target):
            raise MlflowException(f"No such artifact: '{path}'", RESOURCE_DOES_NOT_EXIST)
        return target

    async def upload(self, path: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        """Stream ``chunks`` into ``path``; returns the size. Refuses a path naming a directory."""
        relative = _relative(path)
        if not relative or path.endswith("/"):
            raise MlflowException(
                f"Invalid artifact path {path!r}: it must end with a file name",
                INVALID_PARAMETER_VALUE,
            )
        target = self.resolve(path)
        if os.path.isdir(target):
            raise MlflowException(
                f"Cannot upload to '{path}': it is a directory", INVALID_PARAMETER_VALUE
            )
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        self.resolve(path)  # the directories just made must not have changed where it leads
        size = 0
        with replaced_on_success(target) as temporary, open(temporary, "xb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                out.write(chunk)
        return size

    def delete(self, path: str) -> None:
        """Delete a file or a directory tree (symlinks themselves, never their targets)."""
        if not _relative(path):
            raise MlflowException("Refusing to delete the artifact root", INVALID_PARAMETER_VALUE)
        target = self.resolve(path)
        if os.path.islink(target) or os.path.isfile(target):
            os.unlink(target)
        elif os.path.isdir(target):
            shutil.rmtree(target)


def run_artifact_location(
    artifact_uri: str, proxy: ProxyArtifacts | None
) -> tuple[ProxyArtifacts, str]:
    """Where a run's artifacts live on this server: (root, path of the run's folder in it).

    ``mlflow-artifacts:`` URIs map into the proxy's destination; ``file:`` URIs and plain paths
    are local directories. Other schemes (s3, gs, ...) are not served by tracklet yet.
    """
    # A root stored before fragments and queries were refused would lose its run folder.
    check_artifact_location(artifact_uri, "artifact_uri")
    parsed = urllib.parse.urlparse(artifact_uri)
    if parsed.scheme == "mlflow-artifacts":
        if proxy is None:
            raise MlflowException(
                "This run's artifacts are proxied, but the server runs with --no-serve-artifacts",
                NOT_IMPLEMENTED,
            )
        return proxy, urllib.parse.unquote(parsed.path).lstrip("/")
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and os.name == "nt"):
        return LocalArtifacts(local_path(artifact_uri)), ""
    raise MlflowException(
        f"Listing artifacts stored at {parsed.scheme}:// URIs is not supported by this server",
        NOT_IMPLEMENTED,
    )


def require_allowed_location(location: str, local_roots: tuple[str, ...]) -> None:
    """Refuse a client-chosen local experiment location outside the server's artifact roots.

    Without this, any client could point an experiment at ``/etc`` (or the database's folder)
    and read it back through the artifact routes.
    """
    check_artifact_location(location)
    scheme = urllib.parse.urlsplit(location).scheme if has_scheme(location) else ""
    if scheme not in ("", "file"):
        return
    path = os.path.realpath(local_path(location))
    if any(_inside(os.path.realpath(root), path) for root in local_roots):
        return
    raise MlflowException(
        f"Invalid value '{location}' for parameter 'artifact_location': a local artifact "
        "location must lie inside this server's artifact roots (--artifacts-destination, or a "
        "local --default-artifact-root).",
        INVALID_PARAMETER_VALUE,
    )
