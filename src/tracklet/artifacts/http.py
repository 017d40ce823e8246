"""Artifacts behind a tracking server's ``mlflow-artifacts`` proxy (spec §2.7, §10.3).

``HttpArtifactRepository`` speaks the proxy protocol on an ``http(s)://`` base URL
(``.../api/2.0/mlflow-artifacts/artifacts/<root>``): PUT a file, GET a file, GET a listing,
DELETE a tree, and the ``mpu/create|complete|abort`` multipart endpoints. Bodies stream in
fixed-size chunks both ways. As MLflow's client does, when the server's ``server-info``
advertises multipart transfers (an object-store destination), files of at least
``MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE`` bytes go up in presigned parts sent in parallel,
and downloads read a presigned URL in parallel byte ranges;
``MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD`` and ``MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD`` override
what the server advertises. ``mlflow-artifacts:/<path>`` URIs are first resolved against the
tracking URI by :func:`resolve_mlflow_artifacts_uri`.
"""

from __future__ import annotations

import mimetypes
import os
import posixpath
import re
import urllib.parse
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tracklet.artifacts import settings
from tracklet.artifacts._http import new_client, raise_for_status
from tracklet.artifacts.base import (
    CHUNK_SIZE,
    ArtifactRepository,
    not_found,
    relative_artifact_path,
)
from tracklet.artifacts.paths import validate_relative_path
from tracklet.entities.file_info import FileInfo
from tracklet.env import BoolVar
from tracklet.exceptions import NOT_IMPLEMENTED, MlflowException

ARTIFACTS_ENDPOINT = "/api/2.0/mlflow-artifacts/artifacts"
_SERVER_INFO_ENDPOINT = "/api/3.0/mlflow/server-info"


def resolve_mlflow_artifacts_uri(artifact_uri: str, tracking_uri: str) -> str:
    """``mlflow-artifacts:/<path>`` as the proxy URL under the http(s) tracking URI.

    ``mlflow-artifacts://host:port/<path>`` names the server explicitly; the tracking URI's
    scheme and path prefix (``--static-prefix``) are kept, as MLflow's client does.
    """
    tracking = urllib.parse.urlparse(tracking_uri)
    if tracking.scheme not in ("http", "https"):
        raise MlflowException.invalid_parameter_value(
            f"The artifact URI {artifact_uri} is served by a tracking server, so the tracking "
            f"URI must be its http(s):// address, not {tracking.scheme or 'a path'!r}. Set it "
            "with tracklet.set_tracking_uri('http://host:5000') or MLFLOW_TRACKING_URI."
        )
    parsed = urllib.parse.urlparse(artifact_uri)
    path = re.sub(r"//+", "/", f"{tracking.path}/{ARTIFACTS_ENDPOINT}/{parsed.path}")
    return urllib.parse.urlunparse(
        (tracking.scheme, parsed.netloc or tracking.netloc, path.rstrip("/"), "", "", "")
    )


def _read_chunks(path: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    remaining = os.path.getsize(path) - start if length is None else length
    with open(path, "rb") as f:
        f.seek(start)
        while remaining > 0:
            chunk = f.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


class HttpArtifactRepository(ArtifactRepository):
    """Artifacts under an ``http(s)://`` proxy URL.

    Args:
        artifact_uri: ``<server>/api/2.0/mlflow-artifacts/artifacts/<root>``.
        transport: An httpx transport (tests pass an in-process app's).
    """

    def __init__(self, artifact_uri: str, transport: Any = None) -> None:
        super().__init__(artifact_uri.rstrip("/"))
        server, marker, root = self.artifact_uri.partition(ARTIFACTS_ENDPOINT)
        self._server = server if marker else None
        self._root = root.strip("/")
        self._transport = transport
        self._http_client: Any = None
        self._capabilities: dict[str, Any] | None = None

    @property
    def _http(self) -> Any:
        if self._http_client is None:
            self._http_client = new_client(self._transport)
            # Connections close with the repository, however it is dropped.
            weakref.finalize(self, self._http_client.close)
        return self._http_client

    def _url(self, relative: str) -> str:
        if not relative:
            return self.artifact_uri
        return f"{self.artifact_uri}/{urllib.parse.quote(relative, safe='/')}"

    def _server_url(self, what: str) -> str:
        if self._server is None:
            raise MlflowException(
                f"{what} needs a tracking server's proxy URL (containing {ARTIFACTS_ENDPOINT}), "
                f"not {self.artifact_uri}",
                NOT_IMPLEMENTED,
            )
        return self._server

    # ------------------------------------------------------------------ upload

    def log_artifact(self, local_file: str, artifact_path: str | None = None) -> None:
        directory = relative_artifact_path(artifact_path)
        name = os.path.basename(local_file)
        size = os.path.getsize(local_file)
        if self._should_multipart(size) and self._multipart_upload(local_file, directory, size):
            return
        relative = posixpath.join(directory, name) if directory else name
        headers = {
            "Content-Type": mimetypes.guess_type(name)[0] or "application/octet-stream",
            # A known length keeps the body a plain stream rather than chunked encoding.
            "Content-Length": str(size),
        }
        response = self._http.put(
            self._url(relative), content=_read_chunks(local_file), headers=headers
        )
        raise_for_status(response, f"Uploading {relative}")

    def _should_multipart(self, size: int) -> bool:
        if size < settings.MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE.get() or not self._server:
            return False
        return self._enabled(settings.MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD, "uploads")

    def _enabled(self, override: BoolVar, what: str) -> bool:
        """The user's setting if made (as MLflow's client reads it), else the server's offer."""
        if override.is_set():
            return override.get()
        if self._capabilities is None:
            self._capabilities = self._server_info()
        return bool(self._capabilities.get(f"multipart_{what}_enabled") is True)

    def _server_info(self) -> dict[str, Any]:
        response = self._http.get(f"{self._server_url('server-info')}{_SERVER_INFO_ENDPOINT}")
        if response.status_code != 200:
            return {}  # an older server: no optional capabilities
        info = response.json()
        return info if isinstance(info, dict) else {}

    def _mpu_url(self, action: str, directory: str) -> str:
        path = posixpath.join(self._root, directory) if directory else self._root
        quoted = urllib.parse.quote(path, safe="/")
        return (
            f"{self._server_url('Multipart upload')}/api/2.0/mlflow-artifacts/mpu/{action}/{quoted}"
        )

    def _multipart_upload(self, local_file: str, directory: str, size: int) -> bool:
        """Upload in parts to the URLs the server hands out; False if it has no multipart
        support (HTTP 501), so the caller falls back to one streamed PUT."""
        chunk = settings.MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE.get()
        body = {"path": local_file, "num_parts": settings.part_count(size, chunk)}
        response = self._http.post(self._mpu_url("create", directory), json=body)
        if response.status_code == 501:
            return False
        raise_for_status(response, "Creating a multipart upload")
        created = response.json()
        upload_id = created.get("upload_id")
        try:
            credentials = sorted(created["credentials"], key=lambda c: c["part_number"])
            threads = min(settings.TRANSFER_THREADS, len(credentials)) or 1
            with ThreadPoolExecutor(threads, thread_name_prefix="tracklet-part") as pool:
                parts = list(
                    pool.map(lambda c: self._upload_part(local_file, c, chunk), credentials)
                )
            done = {"path": local_file, "upload_id": upload_id, "parts": parts}
            response = self._http.post(self._mpu_url("complete", directory), json=done)
            raise_for_status(response, "Completing a multipart upload")
        except BaseException:
            abort = {"path": local_file, "upload_id": upload_id}
            self._http.post(self._mpu_url("abort", directory), json=abort)
            raise
        return True

    def _upload_part(
        self, local_file: str, credential: dict[str, Any], chunk: int
    ) -> dict[str, Any]:
        number = int(credential["part_number"])
        start = (number - 1) * chunk
        length = max(0, min(chunk, os.path.getsize(local_file) - start))
        import httpx

        # Presigned part URLs carry their own signature: no tracking-server auth headers.
        with httpx.Client(timeout=self._http.timeout) as plain:
            response = plain.put(
                credential["url"],
                content=_read_chunks(local_file, start, length),
                headers={**credential.get("headers", {}), "Content-Length": str(length)},
            )
        raise_for_status(response, f"Uploading part {number}")
        etag = response.headers.get("ETag", "")
        return {"part_number": number, "etag": etag, "url": credential["url"]}

    # ------------------------------------------------------------------ list, download, delete

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        relative = relative_artifact_path(path)
        listed = posixpath.join(self._root, relative) if relative else self._root
        params = {"path": listed} if listed else {}
        url = f"{self._server_url('Listing artifacts')}{ARTIFACTS_ENDPOINT}"
        response = self._http.get(url, params=params)
        raise_for_status(response, f"Listing {relative or 'the artifact root'}")
        infos = []
        for entry in response.json().get("files", []):
            name = validate_relative_path(str(entry["path"]))
            size = int(entry["file_size"]) if entry.get("file_size") is not None else None
            infos.append(FileInfo(posixpath.join(relative, name), bool(entry["is_dir"]), size))
        # The proxy lists a file as itself; a file has no entries.
        if (
            relative
            and len(infos) == 1
            and not infos[0].is_dir
            and infos[0].path == posixpath.join(relative, posixpath.basename(relative))
        ):
            return []
        return sorted(infos, key=lambda info: info.path)

    def _download_file(self, remote_file_path: str, local_path: str) -> None:
        if self._server and self._enabled(
            settings.MLFLOW_ENABLE_PROXY_MULTIPART_DOWNLOAD, "downloads"
        ):
            presigned = self._presigned(remote_file_path)
            if presigned is not None and presigned.get("file_size") is not None:
                self._ranged_download(presigned, int(presigned["file_size"]), local_path)
                return
        with self._http.stream("GET", self._url(remote_file_path)) as response:
            if response.status_code == 404:
                raise not_found(remote_file_path, self.artifact_uri)
            raise_for_status(response, f"Downloading {remote_file_path}")
            with open(local_path, "wb") as f:
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    f.write(chunk)

    def delete_artifacts(self, artifact_path: str | None = None) -> None:
        relative = relative_artifact_path(artifact_path)
        response = self._http.delete(self._url(relative))
        raise_for_status(response, f"Deleting {relative or 'the artifact root'}")

    # ------------------------------------------------------------------ presigned downloads

    def _presigned(self, relative: str) -> dict[str, Any] | None:
        """The server's presigned URL for a file, None if it serves none (then: via the proxy)."""
        path = posixpath.join(self._root, relative) if self._root else relative
        quoted = urllib.parse.quote(path, safe="/")
        url = (
            f"{self._server_url('Presigned download')}/api/2.0/mlflow-artifacts/presigned/{quoted}"
        )
        response = self._http.get(url)
        if response.status_code in (404, 501) and response.headers.get(
            "content-type", ""
        ).startswith("application/json"):
            if response.json().get("error_code") == "RESOURCE_DOES_NOT_EXIST":
                raise not_found(relative, self.artifact_uri)
            return None
        raise_for_status(response, f"Presigning {relative}")
        body = response.json()
        return body if isinstance(body, dict) else None

    def _ranged_download(self, presigned: dict[str, Any], size: int, local_path: str) -> None:
        """Read the presigned URL in parallel ranges straight into their places in the file."""
        import httpx

        chunk = max(1, settings.MLFLOW_MULTIPART_DOWNLOAD_CHUNK_SIZE.get())
        ranges = [(start, min(start + chunk, size) - 1) for start in range(0, size, chunk)]
        headers = dict(presigned.get("headers") or {})
        with open(local_path, "wb") as f:
            f.truncate(size)
        if not ranges:
            return

        # Presigned URLs carry their own signature: no tracking-server auth headers.
        def fetch(span: tuple[int, int]) -> None:
            start, end = span
            with (
                httpx.Client(timeout=self._http.timeout) as plain,
                plain.stream(
                    "GET", presigned["url"], headers={**headers, "Range": f"bytes={start}-{end}"}
                ) as response,
            ):
                raise_for_status(response, f"Downloading bytes {start}-{end}")
                with open(local_path, "r+b") as out:
                    out.seek(start)
                    for data in response.iter_bytes(CHUNK_SIZE):
                        out.write(data)
                    if out.tell() != end + 1:
                        raise MlflowException(
                            f"Download of bytes {start}-{end} ended at byte {out.tell()}"
                        )

        threads = min(settings.TRANSFER_THREADS, len(ranges))
        try:
            with ThreadPoolExecutor(threads, thread_name_prefix="tracklet-range") as pool:
                list(pool.map(fetch, ranges))
        except BaseException:
            os.unlink(local_path)  # never leave a file with holes in it
            raise
