"""Artifact locations as URIs: the one place they are checked and joined.

A run's artifact root is its experiment's location with ``<run_id>/artifacts`` appended *to the
URI's path*. Joining by string concatenation let a location ending in ``#`` or ``?`` move the run
id into the fragment or the query, which every reader then drops, so the run's root became the
location itself (``file:///etc#`` served ``/etc/passwd``). Locations are therefore refused when
they carry a fragment, a query or parameters, and joined through :func:`append_to_uri_path`.
"""

from __future__ import annotations

import posixpath
import urllib.parse

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


def has_scheme(location: str) -> bool:
    """Whether ``location`` is a URI (``file:``, ``s3:``...) rather than a plain local path.

    A one-letter scheme is a Windows drive (``C:\\x``), which is a path.
    """
    scheme = urllib.parse.urlsplit(location).scheme
    return len(scheme) > 1


def uri_extras(location: str) -> str | None:
    """What part of ``location`` no artifact root may have (fragment, query, params), or None.

    The characters are looked for, not the parsed parts: ``file:///etc#`` has an empty fragment
    that :mod:`urllib.parse` reports as ``''``, yet the ``#`` still cuts off whatever is appended.
    """
    if not has_scheme(location):
        return None
    if "#" in location:
        return "a fragment ('#')"
    if "?" in location:
        return "a query ('?')"
    if urllib.parse.urlparse(location).params:
        return "parameters (';')"
    return None


def check_artifact_location(location: str, field: str = "artifact_location") -> None:
    """INVALID_PARAMETER_VALUE naming ``field`` if ``location`` cannot serve as an artifact root."""
    extras = uri_extras(location)
    if extras is not None:
        raise MlflowException(
            f"Invalid value '{location}' for parameter '{field}': an artifact location must not "
            f"contain {extras}.",
            INVALID_PARAMETER_VALUE,
        )


def append_to_uri_path(location: str, *parts: str) -> str:
    """``location`` with ``parts`` appended to its path, whether it is a URI or a plain path.

    Raises INVALID_PARAMETER_VALUE for a location with a fragment, query or parameters (stored
    before such locations were refused): appending to one would not change where it points.
    """
    check_artifact_location(location)
    suffix = "/".join(p.strip("/") for p in parts if p.strip("/"))
    if not suffix:
        return location
    if not has_scheme(location):
        return f"{location.rstrip('/')}/{suffix}"
    split = urllib.parse.urlsplit(location)
    path = posixpath.join(split.path.rstrip("/") or "/", suffix) if split.path else f"/{suffix}"
    if not split.netloc and split.path.startswith("//"):
        # urlunsplit would read a path starting with '//' back as a network location.
        path = "/" + path.lstrip("/")
    return urllib.parse.urlunsplit((split.scheme, split.netloc, path, "", ""))
