"""Request decoding: a JSON body or a query string -> the endpoint's fields, checked and typed.

MLflow's server parses requests into protobuf messages; tracklet reads the same JSON with the
endpoint table's field list instead (spec §1.2): unknown fields are ignored, lowerCamel spellings
are accepted (but not both spellings at once), a double-encoded body is decoded twice, a missing
or malformed body counts as ``{}``, GET booleans may be ``True``/``False``, and a required field
that is absent or empty is MLflow's "Missing value for required parameter" 400.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tracklet import jsonio
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.wire import logged_models as _logged_models  # noqa: F401  (registers decoders)
from tracklet.wire.codec import MESSAGE_DECODERS
from tracklet.wire.endpoints import BOOL, DOUBLE, ENUM, INT, MESSAGE, STRING, Endpoint, Field
from tracklet.wire.values import (
    as_bool,
    as_double,
    as_enum,
    as_int,
    as_string,
    missing,
    wrong_type,
)

Decoder = Callable[[object, str], Any]


@dataclass(frozen=True, slots=True)
class _Plan:
    name: str
    json_name: str | None  # None when it is spelled like the proto name
    decode: Decoder
    required: bool
    repeated: bool
    objects: bool  # a repeated "Object" message: items are checked to be objects, kept as is


def _decoder(field: Field) -> Decoder:
    if field.kind == STRING:
        return as_string
    if field.kind == INT:
        return as_int
    if field.kind == DOUBLE:
        return as_double
    if field.kind == BOOL:
        return as_bool
    if field.kind == ENUM:
        values = field.enum
        return lambda value, path: as_enum(value, path, values)
    if field.kind == MESSAGE:
        return MESSAGE_DECODERS[field.message]
    raise ValueError(f"unknown field kind {field.kind!r}")  # pragma: no cover - table bug


def _plan(endpoint: Endpoint) -> tuple[_Plan, ...]:
    # Keyed by identity: hashing an Endpoint hashes its whole field table, on every request.
    plan = _PLANS.get(id(endpoint))
    if plan is None or plan[0] is not endpoint:
        plan = _PLANS[id(endpoint)] = (endpoint, _make_plan(endpoint))
    return plan[1]


def _make_plan(endpoint: Endpoint) -> tuple[_Plan, ...]:
    return tuple(
        _Plan(
            f.name,
            f.json_name if f.json_name != f.name else None,
            _decoder(f),
            f.required,
            f.repeated,
            f.kind == MESSAGE and f.message == "Object",
        )
        for f in endpoint.fields
    )


_PLANS: dict[int, tuple[Endpoint, tuple[_Plan, ...]]] = {}
_DICT = frozenset({dict})


def parse_body(body: bytes) -> dict[str, Any]:
    """A JSON request body as a dict: double-encoded bodies decoded twice, anything else ``{}``.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE for well-formed JSON no value can hold (a lone
            surrogate, nesting deeper than ``jsonio.MAX_DEPTH``).
    """
    if not body:
        return {}
    try:
        data = jsonio.loads(body)
        if isinstance(data, str):  # older clients double-encode
            data = jsonio.loads(data)
    except jsonio.InvalidJSONValue as error:
        # Well-formed, so not MLflow's "malformed body is {}": say what cannot be taken.
        raise MlflowException(f"Invalid request body: {error}", INVALID_PARAMETER_VALUE) from None
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_query(endpoint: Endpoint, items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Query-string pairs as the JSON the endpoint would take: repeated fields as lists."""
    values: dict[str, list[str]] = {}
    for key, value in items:
        values.setdefault(key, []).append(value)
    out: dict[str, Any] = {}
    for field in endpoint.fields:
        for name in (field.name, field.json_name):
            if name in values:
                out[name] = values[name] if field.repeated else values[name][0]
    if endpoint.run_id_alias and "run_uuid" in values:
        out["run_uuid"] = values["run_uuid"][0]
    return out


def decode(endpoint: Endpoint, raw: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's fields from ``raw`` (absent optional fields left out), typed and checked.

    Raises:
        MlflowException: INVALID_PARAMETER_VALUE (HTTP 400) with MLflow's message.
    """
    out: dict[str, Any] = {}
    for plan in _plan(endpoint):
        name = plan.name
        value = raw.get(name)
        if plan.json_name is not None:
            alias = raw.get(plan.json_name)
            if alias is not None:
                if value is not None:
                    raise MlflowException(
                        f"Request specifies both '{name}' and '{plan.json_name}'; provide only "
                        "one of them.",
                        INVALID_PARAMETER_VALUE,
                    )
                value = alias
        if name == "run_id" and endpoint.run_id_alias and (value is None or value == ""):
            value = raw.get("run_uuid")
        if value is None:
            if plan.required:
                raise missing(name)
            continue
        if plan.repeated:
            if type(value) is not list:
                raise wrong_type(name, value)
            if plan.objects and {*map(type, value)} <= _DICT:
                out[name] = value  # e.g. log-batch's 1000 metrics: one C-level pass
            else:
                out[name] = _decode_items(plan.decode, value, name)
        else:
            if plan.required and value == "":
                raise missing(name)
            out[name] = plan.decode(value, name)
    return out


def _decode_items(decode_item: Decoder, items: list[Any], name: str) -> list[Any]:
    try:
        return [decode_item(item, name) for item in items]
    except MlflowException:
        # Decoders are pure: decode again with each item's own path, so the error names it.
        return [decode_item(item, f"{name}[{i}]") for i, item in enumerate(items)]


__all__ = ["decode", "parse_body", "parse_query"]
