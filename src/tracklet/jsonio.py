"""JSON in and out, in one place: orjson when it is installed (several times faster on large
log-batch bodies), else the standard library. Both produce and accept the same documents.
A neutral low-level module: the wire codec and the SQL store's run packs both use it."""

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

# Deeper than any document MLflow's API exchanges (a handful of levels); orjson stops at 1024.
MAX_DEPTH = 256


class InvalidJSONValue(ValueError):
    """Well-formed JSON that no tracklet value can hold: a lone UTF-16 surrogate escape
    (``"\\ud800"``, which no database can store as UTF-8), or nesting deeper than MAX_DEPTH."""


def dumps(obj: Any) -> bytes:
    """Compact UTF-8 JSON. Non-finite floats must already be encoded as strings."""
    if _orjson is not None:
        data: bytes = _orjson.dumps(obj)
        return data
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; bare ``NaN``/``Infinity`` tokens (Python's json writes them) are accepted.

    Raises:
        ValueError: malformed JSON; InvalidJSONValue (a ValueError) for well-formed JSON that
            holds a lone surrogate or is nested deeper than MAX_DEPTH.
    """
    if _orjson is not None:
        try:
            return _orjson.loads(data)
        except _orjson.JSONDecodeError:
            pass  # bare NaN/Infinity, which orjson refuses; the stdlib decides
    try:
        parsed = json.loads(data)
    except RecursionError:
        raise InvalidJSONValue(f"JSON nested more than {MAX_DEPTH} levels deep") from None
    check_value(parsed)
    return parsed


def check_value(value: Any) -> None:
    """Refuse lone surrogates in any string (keys too) and nesting deeper than MAX_DEPTH.

    Iterative, so that the check itself cannot exhaust the recursion limit. orjson already
    refuses both, so this runs only on what the standard library parsed.

    Raises:
        InvalidJSONValue: naming what is wrong.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        kind = type(item)
        if kind is str:
            if not item.isascii():
                _check_string(item)
        elif kind is dict or kind is list:
            if depth >= MAX_DEPTH:
                raise InvalidJSONValue(f"JSON nested more than {MAX_DEPTH} levels deep")
            if kind is dict:
                for key, child in item.items():
                    _check_string(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        bad = text[error.start]
        raise InvalidJSONValue(
            f"a string holds the lone surrogate escape \\u{ord(bad):04x}, which is not a "
            "Unicode character (send the character itself or a surrogate pair)"
        ) from None


# For documents tracklet wrote itself with ``dumps`` (no bare NaN): the parser, unwrapped.
loads_own: Callable[[bytes | str], Any] = _orjson.loads if _orjson is not None else json.loads

JSONDecodeError = json.JSONDecodeError
