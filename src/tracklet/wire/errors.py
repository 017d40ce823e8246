"""Error bodies: ``{"error_code", "message", ...}`` out of an exception, and back (spec §5)."""

from __future__ import annotations

from typing import Any

from tracklet import jsonio
from tracklet.exceptions import (
    ENDPOINT_NOT_FOUND,
    MlflowException,
    RestException,
    error_code_for_status,
)


def error_body(exc: MlflowException) -> bytes:
    """The JSON error body MLflow's server sends for ``exc``."""
    return jsonio.dumps(exc.to_json_dict())


def error_status(exc: MlflowException) -> int:
    """The HTTP status for ``exc``, from the one table in :mod:`tracklet.exceptions`."""
    return exc.get_http_status_code()


def exception_from_response(status: int, body: bytes, url: str = "") -> MlflowException:
    """What an MLflow client raises for a non-200 response.

    A JSON object body becomes a :class:`RestException` carrying its ``error_code``; anything
    else (an HTML 404 page, a proxy's text) gets the code MLflow's client derives from the
    status, e.g. a plain 404 is ``ENDPOINT_NOT_FOUND``.
    """
    parsed: Any = None
    try:
        parsed = jsonio.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and "error_code" in parsed:
        return RestException(parsed)
    code = error_code_for_status(status)
    text = body.decode("utf-8", "replace").strip()[:500]
    where = f" from {url}" if url else ""
    if code == ENDPOINT_NOT_FOUND:
        message = f"API request{where} failed: endpoint not found (HTTP 404)"
    else:
        message = f"API request{where} failed with HTTP {status}: {text}"
    return MlflowException(message, code)


__all__ = ["error_body", "error_status", "exception_from_response"]
