"""The artifact proxy over ``s3://bucket/prefix`` (``--artifacts-destination s3://...``).

Every server process holds one boto3 client and no state of its own, so any number of processes
on any number of hosts serve the same artifacts. Memory stays bounded whatever the file size:

- uploads are cut into parts of ``PART_SIZE`` bytes; while up to ``PARTS_IN_FLIGHT`` parts go to
  S3 the next is read from the client (a few parts in memory per upload), and a body smaller than
  one part goes up as one object. A failed or abandoned upload is aborted, so no object appears;
- downloads stream the object (or the requested byte range) in 1 MiB chunks.

MLflow's multipart protocol (``mpu/create|complete|abort``) hands the client presigned part URLs,
as MLflow's own server does for S3, so clients need no credentials; ``presigned/<path>`` hands
out a presigned download URL with the file's size.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from tracklet.artifacts.s3_objects import CHECKSUM, MAX_PARTS, S3Objects
from tracklet.exceptions import INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST, MlflowException
from tracklet.server.artifact_files import UploadTooLarge, _relative
from tracklet.server.downloads import content_disposition, guess_mime_type

PART_SIZE = 8 * 1024 * 1024  # S3's smallest part is 5 MiB (the last one may be shorter)
# Parts of one upload on the wire while the next is read from the client: memory bounded by
# (PARTS_IN_FLIGHT + 1) parts per upload. One part on the wire left the reading idle while S3
# took it (a direct boto3 upload sends ten at once): 50-64% of direct throughput at 256 MiB.
PARTS_IN_FLIGHT = 3
PRESIGNED_PART_SECONDS = 3600
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    """A Range outside the file (answered 416 with the file's size)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(first, last) byte of a single ``Range: bytes=...`` request; None for the whole file
    (no header, or one this server does not narrow, such as several ranges)."""
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if match is None or not (match.group(1) or match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if not first:  # the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or (last and int(last) < start):
        raise RangeNotSatisfiable
    return start, end


def _file_name(path: str) -> str:
    """The basename of a client's local path (either separator), checked as a path segment."""
    name = path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if not name or name in (".", ".."):
        raise MlflowException(
            f"Invalid value {path!r} for parameter 'path': it must name a file",
            INVALID_PARAMETER_VALUE,
        )
    return name


class S3Artifacts:
    """The proxy's storage in ``s3://bucket/prefix`` (see :class:`ProxyArtifacts`)."""

    supports_multipart = True

    def __init__(self, uri: str, client: Any = None, part_size: int = PART_SIZE) -> None:
        self.objects = S3Objects(uri, client)
        self.part_size = part_size

    def resolve(self, path: str) -> str:
        return _relative(path)

    def _file_path(self, path: str) -> str:
        relative = _relative(path)
        if not relative or path.endswith("/"):
            raise MlflowException(
                f"Invalid artifact path {path!r}: it must end with a file name",
                INVALID_PARAMETER_VALUE,
            )
        return relative

    def _size_of_file(self, path: str, relative: str) -> int:
        size = self.objects.size(relative) if relative else None
        if size is None:
            if self.objects.is_dir(relative):
                raise MlflowException(
                    f"Cannot download '{path}': it is a directory", INVALID_PARAMETER_VALUE
                )
            raise MlflowException(f"No such artifact: '{path}'", RESOURCE_DOES_NOT_EXIST)
        return size

    def download_response(self, path: str, name: str, range_header: str | None) -> Response:
        relative = _relative(path)
        size = self._size_of_file(path, relative)
        headers = {
            "Content-Disposition": content_disposition(name),
            "Accept-Ranges": "bytes",
            "Cache-Control": "no-cache",
        }
        try:
            wanted = byte_range(range_header, size)
        except RangeNotSatisfiable:
            headers["Content-Range"] = f"bytes */{size}"
            return Response(b"", status_code=416, headers=headers)
        start, end = wanted if wanted is not None else (0, size - 1)
        headers["Content-Length"] = str(end - start + 1)
        if wanted is not None:
            headers["Content-Range"] = f"bytes {start}-{end}/{size}"
        body: Iterator[bytes] = self.objects.read(relative, start, end)
        response = StreamingResponse(
            body, status_code=200 if wanted is None else 206, headers=headers
        )
        # Set after construction: Starlette would append "; charset=utf-8" to a text/* type.
        response.headers["content-type"] = guess_mime_type(relative)
        return response

    async def upload(self, path: str, chunks: AsyncIterator[bytes], limit: int) -> int:
        relative = self._file_path(path)
        # The part being read, grown in place: a list of chunks joined when full held the part
        # twice for a moment (and botocore sends a bytearray as it sends bytes).
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[asyncio.Future[dict[str, Any]]] = []  # part i+1 as S3 completes it, in order

        async def send_part(data: bytearray) -> None:
            nonlocal upload_id
            if upload_id is None:
                upload_id = await run_in_threadpool(
                    self.objects.create_multipart, relative, CHECKSUM
                )
            if len(parts) >= PARTS_IN_FLIGHT:  # bounded: wait for the oldest part on the wire
                await parts[-PARTS_IN_FLIGHT]
            number = len(parts) + 1
            parts.append(
                asyncio.ensure_future(
                    run_in_threadpool(
                        self.objects.upload_checked_part, relative, upload_id, number, data
                    )
                )
            )

        try:
            async for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge(limit)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    data, buffer = buffer, bytearray()
                    await send_part(data)
                    del data  # the part is referenced by its upload alone, freed when sent
            if upload_id is None:
                await run_in_threadpool(self.objects.put, relative, buffer)
                return size
            if buffer:
                await send_part(buffer)
            done = [await part for part in parts]
            await run_in_threadpool(self.objects.complete_parts, relative, upload_id, done)
            return size
        except BaseException:
            for part in parts:
                with contextlib.suppress(BaseException):
                    await part
            if upload_id is not None:
                with contextlib.suppress(Exception):
                    await run_in_threadpool(self.objects.abort_multipart, relative, upload_id)
            raise

    def delete(self, path: str) -> None:
        relative = _relative(path)
        if not relative:
            raise MlflowException("Refusing to delete the artifact root", INVALID_PARAMETER_VALUE)
        self.objects.delete(relative)

    # ------------------------------------------------------------------ MLflow's multipart API

    def _mpu_target(self, directory: str, local_file: str) -> str:
        _relative(directory)
        name = _file_name(local_file)
        return _relative(posixpath.join(directory, name) if directory else name)

    def create_multipart(self, directory: str, local_file: str, num_parts: int) -> dict[str, Any]:
        """``mpu/create``: an upload id and one presigned PUT URL per part."""
        if not 1 <= num_parts <= MAX_PARTS:
            raise MlflowException(
                f"Invalid value {num_parts} for parameter 'num_parts': it must be between 1 "
                f"and {MAX_PARTS}",
                INVALID_PARAMETER_VALUE,
            )
        relative = self._mpu_target(directory, local_file)
        upload_id = self.objects.create_multipart(relative)
        urls = self.objects.part_urls(relative, upload_id, num_parts, PRESIGNED_PART_SECONDS)
        credentials = [
            {"url": url, "part_number": number, "headers": {}}
            for number, url in enumerate(urls, start=1)
        ]
        return {"upload_id": upload_id, "credentials": credentials}

    def complete_multipart(
        self,
        directory: str,
        local_file: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        limit: int,
    ) -> None:
        """``mpu/complete``: join the parts; an object over ``limit`` bytes is removed again."""
        relative = self._mpu_target(directory, local_file)
        self.objects.complete_multipart(relative, upload_id, parts)
        size = self.objects.size(relative)
        if size is not None and size > limit:
            self.objects.remove(relative)
            raise UploadTooLarge(limit)

    def abort_multipart(self, directory: str, local_file: str, upload_id: str) -> None:
        """``mpu/abort``: drop the parts uploaded so far."""
        self.objects.abort_multipart(self._mpu_target(directory, local_file), upload_id)

    def presigned_download(self, path: str, expires: int) -> dict[str, Any]:
        """``presigned/<path>``: a URL to GET the file from S3 directly, and its size."""
        relative = _relative(path)
        size = self._size_of_file(path, relative)
        disposition = content_disposition(posixpath.basename(relative))
        url: str = self.objects.presigned_get(relative, expires, disposition)
        return {"url": url, "headers": {}, "file_size": size}

    # Last in the class: its name would shadow the builtin in later annotations.
    def list(self, path: str) -> list[dict[str, Any]]:
        relative = _relative(path)
        entries = self.objects.entries(relative)
        if not entries and relative:
            size = self.objects.size(relative)
            if size is not None:
                return [{"path": posixpath.basename(relative), "is_dir": False, "file_size": size}]
        return [
            {"path": e.name, "is_dir": True}
            if e.is_dir
            else {"path": e.name, "is_dir": False, "file_size": e.size}
            for e in entries
        ]
