"""The single-page app's files: ``index.html`` at ``/`` (no-cache, ETag, CSP) and the hashed
assets under ``/static-files/assets/`` (immutable; the precompressed ``.br`` or ``.gz`` sibling
chosen by Accept-Encoding). The files are package data written by ``ui/build.mjs``."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracklet.server.ui.replies import etag_of, matches

CSP = (
    "default-src 'self'; script-src 'self'; img-src 'self' blob: data:; "
    "style-src 'self' 'unsafe-inline'; frame-src 'self' blob:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    data: bytes
    etag: str
    media_type: str
    encoded: dict[str, bytes]  # "br" / "gzip" -> the precompressed body


@cache
def _assets() -> dict[str, Asset]:
    root = resources.files("tracklet.server") / "ui_assets" / "assets"
    if not root.is_dir():
        return {}
    names = {entry.name: entry for entry in root.iterdir() if entry.is_file()}
    out: dict[str, Asset] = {}
    for name, entry in names.items():
        if name.endswith((".br", ".gz")):
            continue
        data = entry.read_bytes()
        encoded = {}
        for suffix, coding in ((".br", "br"), (".gz", "gzip")):
            if name + suffix in names:
                encoded[coding] = names[name + suffix].read_bytes()
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or name.endswith(".js"):
            media_type = ("text/javascript" if name.endswith(".js") else media_type) + (
                "; charset=utf-8"
            )
        out[name] = Asset(data, etag_of(data), media_type, encoded)
    return out


@cache
def _index() -> bytes | None:
    index = resources.files("tracklet.server") / "ui_assets" / "index.html"
    return index.read_bytes() if index.is_file() else None


@cache
def _csp() -> str:
    """CSP, with the hash of each inline script of index.html (the bootstrap that starts the
    runs table's first request while the app's modules load) as its only inline scripts."""
    hashes = [
        "'sha256-" + base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode() + "'"
        for m in re.finditer(rb"<script>(.*?)</script>", _index() or b"", re.S)
    ]
    return CSP.replace("script-src 'self'", " ".join(["script-src 'self'", *hashes]))


async def index(request: Request) -> Response:
    data = _index()
    if data is None:
        return PlainTextResponse(
            "The web UI is not built into this installation (run `npm ci && npm run build` in ui/)",
            status_code=404,
        )
    etag = etag_of(data)
    headers = {"ETag": etag, "Cache-Control": "no-cache", "Content-Security-Policy": _csp()}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="text/html; charset=utf-8", headers=headers)


async def asset(request: Request) -> Response:
    found = _assets().get(request.path_params["name"])
    if found is None:
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"ETag": found.etag, "Cache-Control": IMMUTABLE, "Vary": "Accept-Encoding"}
    if matches(request, found.etag):
        return Response(status_code=304, headers=headers)
    accepted = {
        part.split(";", 1)[0].strip()
        for part in request.headers.get("accept-encoding", "").lower().split(",")
    }
    for coding in ("br", "gzip"):
        if coding in accepted and coding in found.encoded:
            headers["Content-Encoding"] = coding
            return Response(found.encoded[coding], media_type=found.media_type, headers=headers)
    return Response(found.data, media_type=found.media_type, headers=headers)


routes = [
    Route("/", index, methods=["GET", "HEAD"]),
    Route("/index.html", index, methods=["GET", "HEAD"]),
    Route("/static-files/assets/{name}", asset, methods=["GET", "HEAD"]),
]
