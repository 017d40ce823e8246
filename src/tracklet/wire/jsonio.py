"""JSON in and out, in one place: orjson when it is installed (several times faster on large
log-batch bodies), else the standard library. Both produce and accept the same documents."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import ModuleType
from typing import Any

_orjson: ModuleType | None
try:  # optional speed-up: ``pip install tracklet[speed]``
    import orjson as _orjson
except ImportError:  # pragma: no cover - depends on the environment
    _orjson = None


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON. Non-finite floats must already be encoded as strings."""
    if _orjson is not None:
        data: bytes = _orjson.dumps(obj)
        return data
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; bare ``NaN``/``Infinity`` tokens (Python's json writes them) are accepted."""
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # bare NaN/Infinity, which orjson refuses; the stdlib decides
    return json.loads(data)


# For documents tracklet wrote itself with ``dumps`` (no bare NaN): the parser, unwrapped.
loads_own: Callable[[bytes | str], Any] = _orjson.loads if _orjson is not None else json.loads

JSONDecodeError = json.JSONDecodeError
