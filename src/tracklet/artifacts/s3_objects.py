"""Objects under one ``s3://bucket/prefix``: the operations the server's artifact proxy needs.

:class:`S3Objects` works on relative paths already checked by the caller
(:func:`tracklet.artifacts.paths.validate_relative_path`); :meth:`S3Objects.key` is the one place a
relative path becomes a key, always under the prefix, so no key outside it is ever read, written,
listed or deleted. Reads stream a byte range in chunks and writes go up in bounded parts, so a
large object never sits whole in memory. Endpoint, TLS, credentials and region come from
``MLFLOW_S3_ENDPOINT_URL``, ``MLFLOW_S3_IGNORE_TLS`` and boto3's usual chain (environment,
shared config, instance roles).
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tracklet import env
from tracklet.artifacts.base import CHUNK_SIZE
from tracklet.artifacts.s3 import parse_s3_uri
from tracklet.exceptions import RESOURCE_DOES_NOT_EXIST, MlflowException

_DELETE_BATCH = 1000  # S3's DeleteObjects limit
MAX_PARTS = 10_000  # S3's limit on parts of one multipart upload
# The checksum boto3's transfer manager declares for its uploads: declared at creation, S3 (and
# S3-compatible stores) check each part against it and keep the object's composite checksum.
# Undeclared, moto for one hashes every part with SHA-256 on completion: 1 GiB took 5 s there.
CHECKSUM = "CRC32"
_CHECKSUM_MEMBER = "ChecksumCRC32"
_MISSING = ("404", "NoSuchKey", "NotFound")


# CompleteMultipartUpload of a large object can take minutes (S3 keeps the connection alive
# meanwhile); botocore's 60 s default would time out and retry it while the first still runs.
_READ_TIMEOUT = 900


def new_client(max_connections: int = 32) -> Any:
    """A thread-safe boto3 S3 client (one per server process, shared by its threads)."""
    import boto3  # extra "s3"; imported when a server proxies to S3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=env.MLFLOW_S3_ENDPOINT_URL.get(),
        verify=not env.MLFLOW_S3_IGNORE_TLS.get(),
        config=Config(
            max_pool_connections=max_connections,
            read_timeout=_READ_TIMEOUT,
            # Parts carry a CRC32 checksum S3 verifies; botocore would also SHA-256 every byte
            # into the signature over plain http (not over https, where it trusts TLS and the
            # checksum): the proxy's largest CPU cost per uploaded byte.
            s3={"payload_signing_enabled": False},
        ),
    )


def multipart_etag(etags: list[tuple[int, str]]) -> str:
    """The ETag S3 gives the object a multipart upload of these parts completes into."""
    digests = b"".join(bytes.fromhex(etag.strip('"')) for _, etag in sorted(etags))
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(etags)}"


def _is_missing(error: Exception) -> bool:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code")) in _MISSING


@dataclass(frozen=True)
class Entry:
    """One entry of a directory listing: a basename, and a size for files."""

    name: str
    is_dir: bool
    size: int | None = None


class S3Objects:
    """Objects under ``s3://bucket/prefix``, addressed by paths relative to the prefix.

    Args:
        uri: ``s3://bucket`` or ``s3://bucket/prefix``.
        client: A boto3 S3 client (a new one from the environment if None).
    """

    def __init__(self, uri: str, client: Any = None) -> None:
        self.uri = uri
        self.bucket, self.prefix = parse_s3_uri(uri)
        self._client = client

    @property
    def s3(self) -> Any:
        if self._client is None:
            self._client = new_client()
        return self._client

    def key(self, relative: str) -> str:
        """The key of a checked relative path ('' is the prefix itself)."""
        return posixpath.join(self.prefix, relative) if relative else self.prefix

    def _dir_prefix(self, relative: str) -> str:
        key = self.key(relative)
        return f"{key}/" if key else ""

    # ------------------------------------------------------------------ read

    def size(self, relative: str) -> int | None:
        """The object's size, None if there is no object at ``relative``."""
        if not relative:
            return None
        try:
            head = self.s3.head_object(Bucket=self.bucket, Key=self.key(relative))
        except Exception as error:
            if _is_missing(error):
                return None
            raise
        return int(head["ContentLength"])

    def is_dir(self, relative: str) -> bool:
        """Whether any object lies under ``relative/``."""
        page = self.s3.list_objects_v2(
            Bucket=self.bucket, Prefix=self._dir_prefix(relative), MaxKeys=1
        )
        return bool(page.get("KeyCount") or page.get("Contents"))

    def entries(self, relative: str) -> list[Entry]:
        """The entries directly under directory ``relative``, sorted by name."""
        prefix = self._dir_prefix(relative)
        entries: list[Entry] = []
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix, Delimiter="/"):
            for common in page.get("CommonPrefixes", []):
                entries.append(Entry(common["Prefix"][len(prefix) :].rstrip("/"), True))
            for obj in page.get("Contents", []):
                name = obj["Key"][len(prefix) :]
                if name:  # a directory marker object is not an entry of itself
                    entries.append(Entry(name, False, int(obj["Size"])))
        return sorted(entries, key=lambda e: e.name)

    def read(self, relative: str, start: int, end: int) -> Iterator[bytes]:
        """Bytes ``start``..``end`` (inclusive) of the object, in chunks of at most 1 MiB."""
        if end < start:
            return
        response = self.s3.get_object(
            Bucket=self.bucket, Key=self.key(relative), Range=f"bytes={start}-{end}"
        )
        body = response["Body"]
        try:
            yield from body.iter_chunks(CHUNK_SIZE)
        finally:
            body.close()

    def presigned_get(self, relative: str, expires: int, disposition: str) -> str:
        """A URL any HTTP client can GET the object from (with Range) until it expires; S3
        answers it with ``disposition`` as the Content-Disposition."""
        params = {
            "Bucket": self.bucket,
            "Key": self.key(relative),
            "ResponseContentDisposition": disposition,
        }
        url: str = self.s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
        return url

    # ------------------------------------------------------------------ write

    def put(self, relative: str, data: bytes | bytearray) -> None:
        """One object in one request (for bodies smaller than a part)."""
        self.s3.put_object(Bucket=self.bucket, Key=self.key(relative), Body=data)

    def create_multipart(self, relative: str, checksum: str | None = None) -> str:
        """A new multipart upload to ``relative``; returns its upload id. With ``checksum``
        (``CHECKSUM``), as boto3's own uploads declare: S3 checks each part against the
        checksum it carries (``upload_checked_part``) and keeps the object's composite one."""
        extra = {} if checksum is None else {"ChecksumAlgorithm": checksum}
        created = self.s3.create_multipart_upload(
            Bucket=self.bucket, Key=self.key(relative), **extra
        )
        upload_id: str = created["UploadId"]
        return upload_id

    def upload_checked_part(
        self, relative: str, upload_id: str, number: int, data: bytes | bytearray
    ) -> dict[str, Any]:
        """Upload part ``number`` (1-based) of an upload created with ``checksum=CHECKSUM``;
        returns the part as ``complete_parts`` takes it (number, ETag, checksum)."""
        response = self.s3.upload_part(
            Bucket=self.bucket,
            Key=self.key(relative),
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumAlgorithm=CHECKSUM,
        )
        return {
            "PartNumber": number,
            "ETag": response["ETag"],
            _CHECKSUM_MEMBER: response[_CHECKSUM_MEMBER],
        }

    def part_urls(self, relative: str, upload_id: str, count: int, expires: int) -> list[str]:
        """Presigned PUT URLs for parts 1..count of an upload (clients need no credentials)."""
        return [
            self.s3.generate_presigned_url(
                "upload_part",
                Params={
                    "Bucket": self.bucket,
                    "Key": self.key(relative),
                    "PartNumber": number,
                    "UploadId": upload_id,
                },
                ExpiresIn=expires,
            )
            for number in range(1, count + 1)
        ]

    def complete_multipart(
        self, relative: str, upload_id: str, etags: list[tuple[int, str]]
    ) -> None:
        """Join the parts ``(number, etag)`` into the object."""
        self.complete_parts(
            relative, upload_id, [{"PartNumber": number, "ETag": etag} for number, etag in etags]
        )

    def complete_parts(self, relative: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        """Join the parts (S3's ``CompletedPart`` fields) into the object."""
        parts = sorted(parts, key=lambda part: int(part["PartNumber"]))
        try:
            self.s3.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key(relative),
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except Exception:
            # A retried request (a connection lost mid-call) finds the upload already completed
            # by the first: done if the object is exactly these parts.
            try:
                head = self.s3.head_object(Bucket=self.bucket, Key=self.key(relative))
            except Exception:
                head = {}
            etags = [(int(part["PartNumber"]), str(part["ETag"])) for part in parts]
            if str(head.get("ETag", "")).strip('"') != multipart_etag(etags):
                raise

    def abort_multipart(self, relative: str, upload_id: str) -> None:
        """Abort an upload: its parts are dropped and no object appears."""
        try:
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key(relative), UploadId=upload_id
            )
        except Exception as error:
            if _is_missing(error) or "NoSuchUpload" in str(error):
                raise MlflowException(
                    f"No multipart upload {upload_id!r} for {relative!r}", RESOURCE_DOES_NOT_EXIST
                ) from None
            raise

    # ------------------------------------------------------------------ delete

    def remove(self, relative: str) -> None:
        """Delete the one object at ``relative`` (nothing under it)."""
        self.s3.delete_object(Bucket=self.bucket, Key=self.key(relative))

    def delete(self, relative: str) -> None:
        """Delete the object at ``relative`` and everything under ``relative/``."""
        keys = [self.key(relative)]
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._dir_prefix(relative)):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": k} for k in keys[start : start + _DELETE_BATCH]]
            self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})
