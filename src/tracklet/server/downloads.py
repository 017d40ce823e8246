"""File downloads with MLflow's headers: its Content-Type guess and its Content-Disposition.

MLflow's server (``handlers._send_artifact``) types a file by name: ``text/plain`` for text
extensions and for the extension-less ``MLmodel`` (and ``mlproject``, lowercase as MLflow spells
it), the :mod:`mimetypes` guess
otherwise, ``application/octet-stream`` when there is none; the type is sent without a charset.
Every download is an attachment named after the artifact's basename, so a browser never renders
an artifact on the server's origin.
"""

from __future__ import annotations

import mimetypes
import posixpath
import unicodedata
import urllib.parse

from starlette.responses import FileResponse, Response

# mlflow.utils.mime_type_utils.get_text_extensions(), with its MLmodel and mlproject.
TEXT_EXTENSIONS = frozenset(
    [
        "txt",
        "log",
        "err",
        "cfg",
        "conf",
        "cnf",
        "cf",
        "ini",
        "properties",
        "prop",
        "hocon",
        "toml",
        "yaml",
        "yml",
        "xml",
        "json",
        "js",
        "py",
        "py3",
        "csv",
        "tsv",
        "md",
        "rst",
        "ipynb",
        "MLmodel",
        "mlproject",  # MLflow spells it so: a file named MLproject is not text to it
    ]
)
# RFC 7230 token characters: such a file name goes unquoted (werkzeug's quote_header_value).
_TOKEN = frozenset("!#$%&'*+-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ^_`abcdefghijklmnopqrstuvwxyz|~")


def guess_mime_type(name: str) -> str:
    """The Content-Type MLflow's server sends for a file called ``name``."""
    filename = posixpath.basename(name)
    extension = posixpath.splitext(filename)[1].replace(".", "") or filename
    if extension in TEXT_EXTENSIONS:
        return "text/plain"
    return mimetypes.guess_type(filename)[0] or "application/octet-stream"


def _quote(value: str) -> str:
    if not value:
        return '""'
    if _TOKEN.issuperset(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition(name: str) -> str:
    """``attachment; filename=<basename>`` as MLflow builds it (RFC 6266, with an RFC 5987
    ``filename*`` beside an ASCII fallback for a non-ASCII name)."""
    filename = posixpath.basename(name)
    try:
        filename.encode("ascii")
    except UnicodeEncodeError:
        fallback = (
            unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
            or "download"
        )
        quoted = urllib.parse.quote(filename, safe="!#$&+-.^_`|~")
        return f"attachment; filename={_quote(fallback)}; filename*=UTF-8''{quoted}"
    return f"attachment; filename={_quote(filename)}"


def send_file(local_path: str, artifact_name: str | None = None) -> Response:
    """A streamed download of ``local_path`` with MLflow's headers; ``artifact_name`` (the path
    the client asked for) names it, else the local file's name. The middleware adds
    ``X-Content-Type-Options: nosniff``."""
    name = artifact_name or local_path
    response = FileResponse(local_path, headers={"Content-Disposition": content_disposition(name)})
    # Set after construction: Starlette would append "; charset=utf-8" to a text/* media type.
    response.headers["content-type"] = guess_mime_type(local_path)
    return response
