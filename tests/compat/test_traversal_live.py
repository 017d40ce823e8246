"""Traversal probes sent raw (no client-side normalisation) to the live ``tracklet server``: every
one is refused with 400 (or is a 404 for a path that does not exist inside the root), and nothing
outside the artifact root is read, written, listed or deleted."""

from __future__ import annotations

import http.client
import os
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

SECRET = b"the secret beside the artifact root"
PREFIX = "/api/2.0/mlflow-artifacts/artifacts"
RAW_PATHS = [
    "../secret.txt",
    "../../secret.txt",
    "a/../../secret.txt",
    "./../secret.txt",
    "%2e%2e/secret.txt",
    "%2E%2E%2Fsecret.txt",
    "%252e%252e/secret.txt",
    "%252e%252e%252fsecret.txt",
    "..%5Csecret.txt",
    "..\\secret.txt",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "C:%5CWindows%5Cwin.ini",
    "escape/secret.txt",
    "escape",
    "x%00/../../secret.txt",
]


@pytest.fixture
def secret(tracklet_server: Any) -> Path:
    root = tracklet_server.artifacts
    root.mkdir(parents=True, exist_ok=True)
    target = root.parent / "secret.txt"
    target.write_bytes(SECRET)
    link = root / "escape"
    if not link.is_symlink():
        os.symlink(root.parent, link)
    return target


def _raw(url: str, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.putheader("Host", f"127.0.0.1:{parsed.port}")
        connection.putheader("Content-Length", str(len(body or b"")))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("probe", RAW_PATHS)
def test_raw_probe(tracklet_server: Any, secret: Path, probe: str, record_property: Any) -> None:
    url = tracklet_server.url
    quoted = urllib.parse.quote(probe, safe="%/\\:")
    results = [
        _raw(url, "GET", f"{PREFIX}/{quoted}"),
        _raw(url, "PUT", f"{PREFIX}/{quoted}", b"overwritten"),
        _raw(url, "DELETE", f"{PREFIX}/{quoted}"),
        _raw(url, "GET", f"{PREFIX}?path={urllib.parse.quote(probe, safe='')}"),
    ]
    for status, body in results:
        assert status in (400, 404), (probe, status, body)
        assert SECRET not in body
        assert b"root:" not in body
    assert secret.read_bytes() == SECRET
    assert (tracklet_server.artifacts / "escape").is_symlink()
    assert not (tracklet_server.artifacts.parent / "overwritten").exists()
    record_property("traversal_probes", len(results))


def test_absolute_and_dotdot_request_targets(
    tracklet_server: Any, secret: Path, record_property: Any
) -> None:
    for target in (
        f"{PREFIX}/../../../secret.txt",
        f"{PREFIX}//etc/passwd",
        f"{PREFIX}/%2e%2e/%2e%2e/%2e%2e/secret.txt",
    ):
        status, body = _raw(tracklet_server.url, "GET", target)
        assert status in (400, 404)
        assert SECRET not in body
        record_property("traversal_probes", 1)
