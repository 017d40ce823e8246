"""Opaque keyset page tokens: the last row's sort key, bound to the search that issued it.

A token is URL-safe base64 of ``{"v": 1, "q": <fingerprint>, "k": [[rank, value], ...]}``:
one (rank, value) pair per ordering term, tie-breakers included (rank 0: a real value, 1: NaN
or NULL, 2: missing). The fingerprint hashes the search (entity, experiments, view, filter and
order, as parsed), so a token sent back with another search is refused rather than misread.
Tokens carry no offset: rows inserted while a client pages through results do not shift it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.search.ast import Filter, OrderBy

_VERSION = 1
SortKey = list[tuple[int, Any]]
# JSON has no infinities, yet a metric may be +/-inf and a page may end on it: such a key
# travels as a name. (NaN keys never do: they rank as 1, with no value.)
_INFINITIES: dict[object, str] = {float("inf"): "Infinity", float("-inf"): "-Infinity"}
_INFINITY_NAMES = {name: value for value, name in _INFINITIES.items()}


def fingerprint(
    entity: str,
    scope: Sequence[object],
    comparisons: Filter,
    order_by: Sequence[OrderBy],
) -> str:
    """A short hash naming one search; whitespace and alias spellings do not change it."""
    described = [
        entity,
        [str(s) for s in scope],
        [[str(c.identifier), c.op.value, _jsonable(c.value)] for c in comparisons],
        [[str(o.identifier), o.ascending] for o in order_by],
    ]
    text = json.dumps(described, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jsonable(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def encode(query: str, sort_key: SortKey) -> str:
    """The token for the page after the row whose sort key is ``sort_key``."""
    payload = {
        "v": _VERSION,
        "q": query,
        "k": [[rank, _INFINITIES.get(value, value)] for rank, value in sort_key],
    }
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return base64.urlsafe_b64encode(text.encode()).decode()


def _invalid(token: object, why: str) -> MlflowException:
    return MlflowException(f"Invalid page token, {why}", INVALID_PARAMETER_VALUE)


def decode_json(token: object) -> Any:
    """The JSON value a page token carries, refused with MLflow's own messages (clients and
    tests match them): ``Invalid page token, could not base64-decode``, then ``decoded
    value=...`` when the bytes are not JSON.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE if ``token`` is not base64 of JSON.
    """
    if not isinstance(token, str):
        raise _invalid(token, "could not base64-decode")
    try:
        raw = token.encode("ascii")
        decoded = base64.b64decode(raw.replace(b"-", b"+").replace(b"_", b"/"), validate=True)
    except (ValueError, binascii.Error, UnicodeError):
        raise _invalid(token, "could not base64-decode") from None
    try:
        return json.loads(decoded)
    except (ValueError, RecursionError):
        raise _invalid(token, f"decoded value={decoded!r}") from None


def decode_offset(token: str) -> int:
    """The offset in an offset page token (``{"offset": n}``, MLflow's own format).

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE, with MLflow's messages, if it is not one.
    """
    payload = decode_json(token)
    offset = payload.get("offset") if isinstance(payload, dict) else None
    if type(offset) is not int or offset < 0:
        raise _invalid(token, f"parsed value={payload}")
    return offset


def decode(token: str, query: str, types: Sequence[type]) -> SortKey:
    """The sort key in ``token``, checked against the search and each term's value type.

    Args:
        token: a token from :func:`encode`.
        query: the fingerprint of the search the client sends the token with.
        types: each ordering term's value type (float, int or str), to refuse a forged key
            before it reaches SQL.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE if the token is malformed or was issued for
            another search.
    """
    payload = decode_json(token)
    if not isinstance(payload, dict) or payload.get("v") != _VERSION:
        raise _invalid(token, f"parsed value={payload}")
    if payload.get("q") != query:
        raise _invalid(
            token,
            "it was issued for a different search; send the same experiments, view type, "
            "filter and order_by with it",
        )
    key = payload.get("k")
    if not isinstance(key, list) or len(key) != len(types):
        raise _invalid(token, "malformed sort key")
    decoded: SortKey = []
    for item, expected in zip(key, types, strict=True):
        if not (isinstance(item, list) and len(item) == 2) or type(item[0]) is not int:
            raise _invalid(token, "malformed sort key")
        rank, value = item
        if rank == 0:
            value = _typed(value, expected)
            if value is None:
                raise _invalid(token, "malformed sort key")
        elif rank in (1, 2) and value is None:
            pass
        else:
            raise _invalid(token, "malformed sort key")
        decoded.append((rank, value))
    return decoded


def _typed(value: object, expected: type) -> Any:
    if isinstance(value, bool):
        return None
    if expected is float and isinstance(value, int | float):
        return float(value)
    if expected is float and isinstance(value, str) and value in _INFINITY_NAMES:
        return _INFINITY_NAMES[value]
    if expected is int and isinstance(value, int) and -(2**63) <= value < 2**63:
        return value
    if expected is str and isinstance(value, str):
        return value
    return None
