"""Traces on the wire: TraceInfoV3 as protobuf JSON, spans as OpenTelemetry spans (spec §4, §9.8).

Span attributes travel as OpenTelemetry ``AnyValue``s of their decoded values (MLflow's
``Span.to_otel_proto``) and are stored JSON-encoded again on arrival (``Span.from_otel_proto``).
Ids are base64 bytes in MLflow's protobuf JSON and lowercase hex in OTLP/JSON; both are read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from tracklet.entities import Link, Span, SpanEvent, SpanStatus, SpanStatusCode, TraceInfo
from tracklet.entities.span import SpanAttributeKey, decode_attribute, trace_id_from_otel
from tracklet.entities.trace import format_duration, format_request_time
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

_STATUS_NUMBERS = {SpanStatusCode.UNSET: 0, SpanStatusCode.OK: 1, SpanStatusCode.ERROR: 2}


def trace_info_to_json(info: TraceInfo) -> dict[str, Any]:
    """TraceInfoV3 in protobuf JSON (``request_time`` a Timestamp, ``execution_duration`` a
    Duration)."""
    out: dict[str, Any] = {"trace_id": info.trace_id}
    if info.client_request_id is not None:
        out["client_request_id"] = info.client_request_id
    out["trace_location"] = info.trace_location.to_dict()
    if info.request_preview is not None:
        out["request_preview"] = info.request_preview
    if info.response_preview is not None:
        out["response_preview"] = info.response_preview
    out["request_time"] = format_request_time(info.request_time)
    if info.execution_duration is not None:
        out["execution_duration"] = format_duration(info.execution_duration)
    out["state"] = info.state.value
    if info.trace_metadata:
        out["trace_metadata"] = dict(info.trace_metadata)
    if info.tags:
        out["tags"] = dict(info.tags)
    return out


def trace_info_from_json(data: object) -> TraceInfo:
    if not isinstance(data, Mapping):
        raise MlflowException("trace_info must be an object.", INVALID_PARAMETER_VALUE)
    return TraceInfo.from_dict(data)


# ------------------------------------------------------------------ AnyValue


def any_value(value: Any, camel: bool = False) -> dict[str, Any]:
    """An OpenTelemetry AnyValue in protobuf JSON (snake_case, or OTLP's lowerCamelCase)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue" if camel else "bool_value": value}
    if isinstance(value, str):
        return {"stringValue" if camel else "string_value": value}
    if isinstance(value, int):
        return {"intValue" if camel else "int_value": str(value)}
    if isinstance(value, float):
        return {"doubleValue" if camel else "double_value": value}
    if isinstance(value, bytes):
        return {"bytesValue" if camel else "bytes_value": base64.b64encode(value).decode()}
    if isinstance(value, list | tuple):
        key = "arrayValue" if camel else "array_value"
        return {key: {"values": [any_value(v, camel) for v in value]}}
    if isinstance(value, Mapping):
        key = "kvlistValue" if camel else "kvlist_value"
        return {key: {"values": key_values(value, camel)}}
    return {"stringValue" if camel else "string_value": str(value)}


def key_values(values: Mapping[str, Any], camel: bool = False) -> list[dict[str, Any]]:
    return [{"key": str(k), "value": any_value(v, camel)} for k, v in values.items()]


def from_any_value(data: Any) -> Any:
    """The Python value of an AnyValue in either JSON spelling."""
    if not isinstance(data, Mapping) or not data:
        return None
    for key, value in data.items():
        kind = key.replace("_", "").lower()
        if kind == "stringvalue" or kind == "boolvalue":
            return value
        if kind == "intvalue":
            return int(value)
        if kind == "doublevalue":
            return float(value)
        if kind == "bytesvalue":
            return base64.b64decode(value)
        if kind == "arrayvalue":
            return [from_any_value(v) for v in (value or {}).get("values", [])]
        if kind == "kvlistvalue":
            return from_key_values((value or {}).get("values", []))
    return None


def from_key_values(items: Iterable[Any]) -> dict[str, Any]:
    return {str(kv.get("key")): from_any_value(kv.get("value")) for kv in items}


# ------------------------------------------------------------------ spans


def _id(hex_id: str, hex_ids: bool) -> str:
    return hex_id if hex_ids else base64.b64encode(bytes.fromhex(hex_id)).decode()


def span_to_otel_json(span: Span, hex_ids: bool = False) -> dict[str, Any]:
    """An OpenTelemetry Span in JSON: MLflow's protobuf JSON, or OTLP/JSON with ``hex_ids``."""
    camel = hex_ids
    otel_trace = span.trace_id.removeprefix("tr-")
    out: dict[str, Any] = {
        "trace_id": _id(otel_trace, hex_ids),
        "span_id": _id(span.span_id, hex_ids),
        "name": span.name,
        "start_time_unix_nano": str(span.start_time_ns),
        "attributes": key_values(
            {k: decode_attribute(v) for k, v in span.raw_attributes.items()}, camel
        ),
        "events": [
            {
                "time_unix_nano": str(e.timestamp),
                "name": e.name,
                "attributes": key_values(e.attributes, camel),
            }
            for e in span.events
        ],
        "status": {
            "code": span.status.status_code.to_proto_name(),
            "message": span.status.description,
        },
    }
    links = [_link_to_json(link, camel) for link in span.links]
    if links:
        out["links"] = [link for link in links if link is not None]
    if span.parent_id:
        out["parent_span_id"] = _id(span.parent_id, hex_ids)
    if span.end_time_ns is not None:
        out["end_time_unix_nano"] = str(span.end_time_ns)
    if camel:
        out = {_camel(k): v for k, v in out.items()}
        out["status"]["code"] = _STATUS_NUMBERS[span.status.status_code]
        for event in out["events"]:
            event["timeUnixNano"] = event.pop("time_unix_nano")
    return out


def _link_to_json(link: Link, hex_ids: bool) -> dict[str, Any] | None:
    try:
        trace, span = link.otel_ids()
    except MlflowException:
        return None  # as MLflow's to_otel_proto, which drops a link it cannot encode
    trace_key, span_key = ("traceId", "spanId") if hex_ids else ("trace_id", "span_id")
    # Base64 even in OTLP/JSON: MLflow's server turns only the span's own ids from hex (its
    # JSON parser reads bytes as base64); tracklet's reader takes either.
    return {
        trace_key: _id(f"{trace:032x}", False),
        span_key: _id(f"{span:016x}", False),
        "attributes": key_values(dict(link.attributes or {}), hex_ids),
    }


def _link_from_json(data: Mapping[str, Any]) -> Link:
    attributes = {
        key: base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value
        for key, value in from_key_values(data.get("attributes") or []).items()
    }
    return Link(
        "tr-" + _hex(_get(data, "trace_id"), 16),
        _hex(_get(data, "span_id"), 8),
        attributes or None,
    )


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _get(data: Mapping[str, Any], name: str, default: Any = None) -> Any:
    value = data.get(name)
    return data.get(_camel(name), default) if value is None else value


def _hex(value: Any, size: int) -> str:
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str) and len(value) == size * 2:
        return value.lower()
    else:
        raw = base64.b64decode(str(value))
    if len(raw) != size:
        raise ValueError(f"expected a {size}-byte id, got {value!r}")
    return raw.hex()


def span_from_otel(
    trace_id: Any,
    span_id: Any,
    parent_span_id: Any,
    name: str,
    start: int,
    end: int | None,
    attributes: Mapping[str, Any],
    events: Iterable[tuple[str, int, Mapping[str, Any]]],
    status_code: Any,
    status_message: str,
    links: Iterable[Link] = (),
) -> Span:
    """A span from OpenTelemetry parts (values decoded), stored as MLflow stores it."""
    otel_trace = _hex(trace_id, 16)
    request_id = trace_id_from_otel(int(otel_trace, 16))
    raw = {k: json.dumps(v, ensure_ascii=False) for k, v in attributes.items()}
    raw[SpanAttributeKey.REQUEST_ID] = json.dumps(request_id)
    return Span(
        trace_id=request_id,
        span_id=_hex(span_id, 8),
        parent_id=_hex(parent_span_id, 8) if parent_span_id else None,
        name=name,
        start_time_ns=int(start),
        end_time_ns=int(end) if end else None,
        status=SpanStatus(SpanStatusCode.from_any(status_code or 0), status_message or ""),
        raw_attributes=raw,
        events=tuple(SpanEvent(n, int(t), dict(a)) for n, t, a in events),
        links=tuple(links),
    )


def span_from_otel_json(data: Mapping[str, Any]) -> Span:
    """A span from an OpenTelemetry Span in JSON (either spelling, either id encoding)."""
    try:
        status = _get(data, "status") or {}
        return span_from_otel(
            _get(data, "trace_id"),
            _get(data, "span_id"),
            _get(data, "parent_span_id"),
            str(_get(data, "name", "")),
            int(_get(data, "start_time_unix_nano", 0)),
            int(_get(data, "end_time_unix_nano", 0) or 0) or None,
            from_key_values(_get(data, "attributes") or []),
            [
                (
                    str(e.get("name", "")),
                    int(_get(e, "time_unix_nano", 0)),
                    from_key_values(e.get("attributes") or []),
                )
                for e in _get(data, "events") or []
            ],
            status.get("code", 0),
            str(status.get("message") or ""),
            [_link_from_json(link) for link in _get(data, "links") or []],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise MlflowException(f"Invalid span: {error}", INVALID_PARAMETER_VALUE) from None


def trace_to_json(info: TraceInfo, spans: Iterable[Span]) -> dict[str, Any]:
    """A v3 ``Trace`` message: its info and OpenTelemetry spans."""
    return {"trace_info": trace_info_to_json(info), "spans": [span_to_otel_json(s) for s in spans]}
