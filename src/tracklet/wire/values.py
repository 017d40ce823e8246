"""Scalar values on the wire, in MLflow's flavour of the protobuf JSON mapping (spec §1.3).

Decoding accepts what MLflow's clients send: Python numbers, Java's int64-as-string, the strings
``"NaN"``/``"Infinity"``/``"-Infinity"`` for doubles, enum names or numbers. Anything else is a
400 ``INVALID_PARAMETER_VALUE`` with MLflow's message, never a 500.
"""

from __future__ import annotations

import json
import math
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.validation import INT64_MAX, INT64_MIN

_API_DOCS = " See the API docs for more information about request parameters."
_MAX_SHOWN = 1000  # characters of a bad value quoted back in an error message
_SPECIAL_DOUBLES = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def missing(path: str) -> MlflowException:
    """MLflow's error for an absent (or empty) required field."""
    return MlflowException(
        f"Missing value for required parameter '{path}'.{_API_DOCS}", INVALID_PARAMETER_VALUE
    )


def shown(value: object) -> str:
    """``value`` as JSON for an error message, whatever it is: a value nested a thousand deep
    (which would exhaust the recursion limit) or a megabyte long is shown cut short."""
    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        return f"<a {type(value).__name__} nested too deeply to show>"
    except (TypeError, ValueError):
        text = object.__repr__(value)
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


def ascii_int(text: str) -> int | None:
    """``text`` as an int64-sized integer if it is one in ASCII digits (``"-12"``), else None.

    ``int()`` alone would take ``"٣"`` and raise on ``"²"`` (``str.isdigit`` is true for both)
    and on numbers of more than 4,300 digits; none of them is an id or an enum number.
    """
    text = text.strip()
    digits = text[1:] if text[:1] in ("-", "+") else text
    if not (digits.isascii() and digits.isdigit()) or len(digits.lstrip("0")) > 19:
        return None
    return int(text)


def wrong_type(path: str, value: object) -> MlflowException:
    """MLflow's error for a field of the wrong JSON type."""
    return MlflowException(
        f"Invalid value {shown(value)} for parameter '{path}' supplied:  Hint: Value was of type "
        f"'{type(value).__name__}'.{_API_DOCS}",
        INVALID_PARAMETER_VALUE,
    )


def as_string(value: object, path: str) -> str:
    if type(value) is str:
        return value
    raise wrong_type(path, value)


def as_int(value: object, path: str) -> int:
    """An int32/int64: a JSON integer, an integral float, or a decimal string (Java)."""
    if type(value) is int:
        number = value
    elif type(value) is str:
        parsed = ascii_int(value)
        if parsed is None:
            raise wrong_type(path, value)
        number = parsed
    elif type(value) is float and value.is_integer():
        number = int(value)
    else:
        raise wrong_type(path, value)
    if not INT64_MIN <= number <= INT64_MAX:
        raise wrong_type(path, value)
    return number


def as_double(value: object, path: str) -> float:
    """A double: a JSON number, ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, or a numeric string."""
    kind = type(value)
    if kind is float:
        return value  # type: ignore[return-value]
    if kind is int:
        try:
            return float(value)  # type: ignore[arg-type]
        except OverflowError:
            return math.inf if value > 0 else -math.inf  # type: ignore[operator]
    if kind is str:
        special: float | None = _SPECIAL_DOUBLES.get(value)  # type: ignore[call-overload]
        if special is not None:
            return special
        try:
            return float(value)  # type: ignore[arg-type]
        except ValueError:
            pass
    raise wrong_type(path, value)


def as_bool(value: object, path: str) -> bool:
    if type(value) is bool:
        return value
    if type(value) is str and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if type(value) is str:
        raise MlflowException(
            f"Invalid boolean value: {value}, must be 'true' or 'false'.", INVALID_PARAMETER_VALUE
        )
    raise wrong_type(path, value)


def as_enum(value: object, path: str, values: tuple[tuple[str, int], ...]) -> int:
    """An enum given by name or number, as its number."""
    for name, number in values:
        if value == name or (type(value) is int and value == number):
            return number
    parsed = ascii_int(value) if type(value) is str else None
    if parsed is not None:
        return as_enum(parsed, path, values)
    raise MlflowException(
        f"Invalid value {shown(value)} for parameter '{path}' supplied: expected one of "
        f"{[name for name, _ in values]}.{_API_DOCS}",
        INVALID_PARAMETER_VALUE,
    )


def encode_double(value: float) -> float | str:
    """A double for a response: NaN and infinities as MLflow's strings."""
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def optional_string(obj: dict[str, Any], name: str, path: str) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    return as_string(value, f"{path}.{name}" if path else name)


def key_value_pair(value: object, path: str) -> tuple[str, str]:
    """A ``{key, value}`` message (a tag or param): key required, value "" when unset."""
    if type(value) is not dict:
        raise wrong_type(path, value)
    key = value.get("key")
    if key is None or key == "":
        raise missing(f"{path}.key")
    text = value.get("value")
    return as_string(key, f"{path}.key"), "" if text is None else as_string(text, f"{path}.value")
