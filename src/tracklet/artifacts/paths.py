"""The one function that joins a client-supplied artifact path to an artifact root.

Every read, write, list and delete of a path that came from outside (a REST request, a
``runs:/`` URI, a user argument) goes through :func:`safe_join`, so nothing outside the root is
ever touched: ``..`` segments, absolute paths, backslashes, NUL bytes, percent-encoded and
double-encoded traversal, and symlinks that lead out of the root are all refused with
INVALID_PARAMETER_VALUE (HTTP 400).
"""

from __future__ import annotations

import os
import posixpath
from urllib.parse import unquote

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException


def _invalid(path: str, why: str) -> MlflowException:
    return MlflowException(f"Invalid artifact path {path!r}: {why}", INVALID_PARAMETER_VALUE)


def validate_relative_path(path: str) -> str:
    """``path`` as a clean relative POSIX path ('' for the root), or INVALID_PARAMETER_VALUE.

    Every percent-decoding of the path is checked (so ``%2e%2e`` and ``%252e%252e`` are seen for
    what they are), but the path returned is the one given: a file really named ``100%25.txt``
    keeps its name.
    """
    if not path:
        return ""
    layer = path
    for _ in range(5):
        _check_layer(path, layer)
        decoded = unquote(layer)
        if decoded == layer:
            break
        layer = decoded
    else:
        _check_layer(path, layer)
    parts = [p for p in path.split("/") if p not in ("", ".")]
    return posixpath.join(*parts) if parts else ""


def _check_layer(path: str, layer: str) -> None:
    if "\x00" in layer:
        raise _invalid(path, "it contains a NUL byte")
    if "\\" in layer:
        raise _invalid(path, "backslashes are not allowed")
    if layer.startswith("/") or (len(layer) > 1 and layer[1] == ":"):
        raise _invalid(path, "it must be relative to the artifact root")
    if any(p == ".." for p in layer.split("/")):
        raise _invalid(path, "'..' is not allowed")


def safe_join(root: str, path: str) -> str:
    """The local file path of ``path`` under ``root``; refuses anything that would leave it,
    including through a symlink inside the root."""
    relative = validate_relative_path(path)
    root_real = os.path.realpath(root)
    joined = os.path.join(root_real, *relative.split("/")) if relative else root_real
    resolved = os.path.realpath(joined)
    if resolved != root_real and not resolved.startswith(root_real + os.sep):
        raise _invalid(path, "it leads outside the artifact root")
    return joined
