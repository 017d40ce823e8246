"""OTLP/HTTP trace requests (``ExportTraceServiceRequest``) decoded to spans, from protobuf
or JSON bodies, with no protobuf library: the few messages involved are read straight off the
protobuf wire format (varints, fixed64 and length-delimited fields).

Field numbers are OpenTelemetry's ``opentelemetry/proto/trace/v1/trace.proto`` and
``common/v1/common.proto``; unknown fields are skipped, as protobuf parsers do.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from tracklet.entities import Span
from tracklet.wire.traces import span_from_otel, span_from_otel_json

_FIXED64 = struct.Struct("<Q")
_DOUBLE = struct.Struct("<d")


class ProtobufError(ValueError):
    """A body that is not a well-formed protobuf message."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def fields(buf: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of each field: ints, or bytes for length-delimited."""
    pos, end = 0, len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Any
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > end:
                raise ProtobufError("truncated fixed64")
            value = buf[pos : pos + 8]
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > end:
                raise ProtobufError("truncated field")
            value = buf[pos : pos + size]
            pos += size
        elif wire == 5:
            if pos + 4 > end:
                raise ProtobufError("truncated fixed32")
            value = buf[pos : pos + 4]
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def any_value(buf: bytes) -> Any:
    """AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7."""
    result: Any = None
    for number, _wire, value in fields(buf):
        if number == 1:
            result = bytes(value).decode("utf-8", "replace")
        elif number == 2:
            result = bool(value)
        elif number == 3:
            result = _signed(value)
        elif number == 4:
            result = _DOUBLE.unpack(value)[0]
        elif number == 5:
            result = [any_value(v) for n, _w, v in fields(value) if n == 1]
        elif number == 6:
            result = dict(key_value(v) for n, _w, v in fields(value) if n == 1)
        elif number == 7:
            result = bytes(value)
    return result


def key_value(buf: bytes) -> tuple[str, Any]:
    key, value = "", None
    for number, _wire, item in fields(buf):
        if number == 1:
            key = bytes(item).decode("utf-8", "replace")
        elif number == 2:
            value = any_value(item)
    return key, value


def _event(buf: bytes) -> tuple[str, int, dict[str, Any]]:
    time_ns, name, attributes = 0, "", {}
    for number, _wire, value in fields(buf):
        if number == 1:
            time_ns = _FIXED64.unpack(value)[0]
        elif number == 2:
            name = bytes(value).decode("utf-8", "replace")
        elif number == 3:
            key, item = key_value(value)
            attributes[key] = item
    return name, time_ns, attributes


def _span(buf: bytes) -> Span:
    parts: dict[str, Any] = {"parent": None, "end": None, "name": "", "start": 0}
    attributes: dict[str, Any] = {}
    events = []
    code, message = 0, ""
    for number, _wire, value in fields(buf):
        if number == 1:
            parts["trace_id"] = bytes(value)
        elif number == 2:
            parts["span_id"] = bytes(value)
        elif number == 4:
            parts["parent"] = bytes(value) or None
        elif number == 5:
            parts["name"] = bytes(value).decode("utf-8", "replace")
        elif number == 7:
            parts["start"] = _FIXED64.unpack(value)[0]
        elif number == 8:
            parts["end"] = _FIXED64.unpack(value)[0] or None
        elif number == 9:
            key, item = key_value(value)
            attributes[key] = item
        elif number == 11:
            events.append(_event(value))
        elif number == 15:
            for n, _w, v in fields(value):
                if n == 2:
                    message = bytes(v).decode("utf-8", "replace")
                elif n == 3:
                    code = v
    if "trace_id" not in parts or "span_id" not in parts:
        raise ProtobufError("a span without trace_id or span_id")
    return span_from_otel(
        parts["trace_id"],
        parts["span_id"],
        parts["parent"],
        parts["name"],
        parts["start"],
        parts["end"],
        attributes,
        events,
        code,
        message,
    )


def spans_from_protobuf(body: bytes) -> list[Span]:
    """Every span of an ExportTraceServiceRequest (resource_spans 1 > scope_spans 2 > spans 2)."""
    spans = []
    for number, _wire, resource_spans in fields(body):
        if number != 1:
            continue
        for n, _w, scope_spans in fields(resource_spans):
            if n != 2:
                continue
            for m, _x, span in fields(scope_spans):
                if m == 2:
                    spans.append(_span(span))
    return spans


def spans_from_json(body: Any) -> list[Span]:
    """Every span of an OTLP/JSON ExportTraceServiceRequest (either key spelling)."""
    spans: list[Span] = []
    for resource_spans in body.get("resourceSpans") or body.get("resource_spans") or []:
        scopes = resource_spans.get("scopeSpans") or resource_spans.get("scope_spans") or []
        for scope in scopes:
            spans.extend(span_from_otel_json(span) for span in scope.get("spans") or [])
    return spans


__all__ = ["ProtobufError", "spans_from_json", "spans_from_protobuf"]
