"""OTLP/HTTP trace requests (``ExportTraceServiceRequest``) decoded to spans, from protobuf
or JSON bodies, with no protobuf library: the few messages involved are read straight off the
protobuf wire format (varints, fixed64 and length-delimited fields).

Field numbers are OpenTelemetry's ``opentelemetry/proto/trace/v1/trace.proto`` and
``common/v1/common.proto``; unknown fields are skipped, as protobuf parsers do.

The span reader is the OTLP ingest's hot path (tens of thousands of spans a second): each
message is read by one loop over ``(buf, pos, end)`` without slicing it out or going through a
generator, keys and lengths below 128 take a one-byte fast path, and the values a stored span
needs (JSON-encoded attributes, ``tr-`` ids, statuses) are made once and shared.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterator
from json.encoder import encode_basestring
from typing import Any

from tracklet.entities import Link, Span, SpanEvent, SpanStatus, SpanStatusCode
from tracklet.entities._base import fast_constructor
from tracklet.entities.span import TRACE_ID_PREFIX, SpanAttributeKey
from tracklet.wire.traces import span_from_otel_json

_FIXED64 = struct.Struct("<Q")
_DOUBLE = struct.Struct("<d")
_u64 = _FIXED64.unpack_from
# json.dumps(value, ensure_ascii=False) without building an encoder per call.
_encode_any = json.JSONEncoder(ensure_ascii=False).encode
_new_span = fast_constructor(Span)
_CODES = (SpanStatusCode.UNSET, SpanStatusCode.OK, SpanStatusCode.ERROR)
_STATUSES = tuple(SpanStatus(code, "") for code in _CODES)
_REQUEST_ID = SpanAttributeKey.REQUEST_ID


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


def _skip(buf: bytes, pos: int, wire: int) -> int:
    """The position after a field's value of wire type ``wire`` starting at ``pos``."""
    if wire == 0:
        return _varint(buf, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        size, pos = _varint(buf, pos)
        return pos + size
    if wire == 5:
        return pos + 4
    raise ProtobufError(f"unsupported wire type {wire}")


def _fields(buf: bytes, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """(key, wire type, value start, value end) of each field of ``buf[pos:end]``; a varint
    field's "end" is its value. For the messages read rarely (events, links, nested values)."""
    while pos < end:
        key = buf[pos]
        pos += 1
        if key > 0x7F:
            key, pos = _varint(buf, pos - 1)
        wire = key & 7
        if wire == 2:
            size = buf[pos]
            pos += 1
            if size > 0x7F:
                size, pos = _varint(buf, pos - 1)
            if pos + size > end:
                raise ProtobufError("truncated field")
            yield key, wire, pos, pos + size
            pos += size
        elif wire == 0:
            value, pos = _varint(buf, pos)
            yield key, wire, pos, value
        else:
            start, pos = pos, _skip(buf, pos, wire)
            if pos > end:
                raise ProtobufError("truncated field")
            yield key, wire, start, pos
    if pos != end:
        raise ProtobufError("truncated message")


def _text(buf: bytes, start: int, end: int) -> str:
    return buf[start:end].decode("utf-8", "replace")


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _any_value(buf: bytes, pos: int, end: int) -> Any:
    """AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7."""
    result: Any = None
    for key, _wire, start, stop in _fields(buf, pos, end):
        if key == 0x0A:
            result = _text(buf, start, stop)
        elif key == 0x10:
            result = bool(stop)
        elif key == 0x18:
            result = _signed(stop)
        elif key == 0x21:
            result = _DOUBLE.unpack_from(buf, start)[0]
        elif key == 0x2A:
            result = [
                _any_value(buf, s, e) for k, _w, s, e in _fields(buf, start, stop) if k == 0x0A
            ]
        elif key == 0x32:
            result = dict(
                _key_value(buf, s, e) for k, _w, s, e in _fields(buf, start, stop) if k == 0x0A
            )
        elif key == 0x3A:
            result = buf[start:stop]
    return result


def _key_value(buf: bytes, pos: int, end: int) -> tuple[str, Any]:
    key, value = "", None
    for tag, _wire, start, stop in _fields(buf, pos, end):
        if tag == 0x0A:
            key = _text(buf, start, stop)
        elif tag == 0x12:
            value = _any_value(buf, start, stop)
    return key, value


def _encoded_key_value(buf: bytes, pos: int, end: int) -> tuple[str, str]:
    """A span attribute as stored: its key and its value JSON-encoded. A string value (the
    common case) is read without the generic AnyValue walk."""
    if end - pos > 4 and buf[pos] == 0x0A:
        size = buf[pos + 1]
        stop = pos + 2 + size
        if size < 0x80 and stop + 2 < end and buf[stop] == 0x12 and buf[stop + 2] == 0x0A:
            inner = buf[stop + 1]
            value_size = buf[stop + 3]
            if (
                inner < 0x80
                and value_size < 0x80
                and stop + 4 + value_size == end == stop + 2 + inner
            ):
                key = buf[pos + 2 : stop].decode("utf-8", "replace")
                return key, encode_basestring(buf[stop + 4 : end].decode("utf-8", "replace"))
    key, value = _key_value(buf, pos, end)
    return key, _encode_any(value)


def _event(buf: bytes, pos: int, end: int) -> SpanEvent:
    time_ns, name, attributes = 0, "", {}
    for key, _wire, start, stop in _fields(buf, pos, end):
        if key == 0x09:
            time_ns = _u64(buf, start)[0]
        elif key == 0x12:
            name = _text(buf, start, stop)
        elif key == 0x1A:
            attribute, item = _key_value(buf, start, stop)
            attributes[attribute] = item
    return SpanEvent(name, time_ns, attributes)


def _link(buf: bytes, pos: int, end: int) -> Link:
    """Span.Link: trace_id 1, span_id 2, attributes 4 (bytes values as base64, as MLflow)."""
    trace_id = span_id = b""
    attributes: dict[str, Any] = {}
    for key, _wire, start, stop in _fields(buf, pos, end):
        if key == 0x0A:
            trace_id = buf[start:stop]
        elif key == 0x12:
            span_id = buf[start:stop]
        elif key == 0x22:
            name, value = _key_value(buf, start, stop)
            if isinstance(value, bytes):
                value = base64.b64encode(value).decode("ascii")
            attributes[name] = value
    return Link(
        f"{TRACE_ID_PREFIX}{int.from_bytes(trace_id, 'big'):032x}",
        f"{int.from_bytes(span_id, 'big'):016x}",
        attributes or None,
    )


class _Ids:
    """``tr-`` ids of the traces of one request, each made once (spans share them)."""

    def __init__(self) -> None:
        self.known: dict[bytes, tuple[str, str]] = {}

    def of(self, raw: bytes) -> tuple[str, str]:
        found = self.known.get(raw)
        if found is None:
            if len(raw) != 16:
                raise ProtobufError(f"expected a 16-byte trace id, got {len(raw)} bytes")
            request_id = TRACE_ID_PREFIX + raw.hex()
            found = self.known[raw] = (request_id, encode_basestring(request_id))
        return found


def _span(buf: bytes, pos: int, end: int, ids: _Ids) -> Span:
    trace_id = span_id = parent = b""
    name, start_ns, end_ns = "", 0, 0
    raw: dict[str, str] = {}
    events: list[SpanEvent] = []
    links: list[Link] = []
    code, message = 0, ""
    while pos < end:
        key = buf[pos]
        pos += 1
        if key > 0x7F:
            key, pos = _varint(buf, pos - 1)
        wire = key & 7
        if wire == 2:
            size = buf[pos]
            pos += 1
            if size > 0x7F:
                size, pos = _varint(buf, pos - 1)
            stop = pos + size
            if stop > end:
                raise ProtobufError("truncated field")
            if key == 0x4A:
                attribute, value = _encoded_key_value(buf, pos, stop)
                raw[attribute] = value
            elif key == 0x0A:
                trace_id = buf[pos:stop]
            elif key == 0x12:
                span_id = buf[pos:stop]
            elif key == 0x22:
                parent = buf[pos:stop]
            elif key == 0x2A:
                name = buf[pos:stop].decode("utf-8", "replace")
            elif key == 0x5A:
                events.append(_event(buf, pos, stop))
            elif key == 0x6A:
                links.append(_link(buf, pos, stop))
            elif key == 0x7A:
                if stop - pos == 2 and buf[pos] == 0x18 and buf[pos + 1] < 0x80:
                    code = buf[pos + 1]  # the usual status: a code alone, one byte
                else:
                    for tag, _w, s, e in _fields(buf, pos, stop):
                        if tag == 0x12:
                            message = _text(buf, s, e)
                        elif tag == 0x18:
                            code = e
            pos = stop
        elif wire == 1:
            if pos + 8 > end:
                raise ProtobufError("truncated fixed64")
            if key == 0x39:
                start_ns = _u64(buf, pos)[0]
            elif key == 0x41:
                end_ns = _u64(buf, pos)[0]
            pos += 8
        else:
            pos = _skip(buf, pos, wire)
    if pos != end:
        raise ProtobufError("truncated span")
    if not trace_id or not span_id:
        raise ProtobufError("a span without trace_id or span_id")
    found = ids.known.get(trace_id)
    request_id, encoded_request_id = ids.of(trace_id) if found is None else found
    if len(span_id) != 8 or (parent and len(parent) != 8):
        size = len(span_id) if len(span_id) != 8 else len(parent)
        raise ProtobufError(f"expected an 8-byte span id, got {size} bytes")
    raw[_REQUEST_ID] = encoded_request_id
    if message or not 0 <= code <= 2:
        status = SpanStatus(SpanStatusCode.from_any(code), message)
    else:
        status = _STATUSES[code]
    return _new_span(
        request_id,
        span_id.hex(),
        parent.hex() if parent else None,
        name,
        start_ns,
        end_ns or None,
        status,
        raw,
        tuple(events) if events else (),
        tuple(links) if links else (),
    )


def _scope_spans(buf: bytes, pos: int, end: int, ids: _Ids, spans: list[Span]) -> None:
    """The spans (field 2) of a ScopeSpans, read in one loop: hundreds per message."""
    append = spans.append
    while pos < end:
        key = buf[pos]
        pos += 1
        if key > 0x7F:
            key, pos = _varint(buf, pos - 1)
        if key & 7 != 2:
            pos = _skip(buf, pos, key & 7)
            continue
        size = buf[pos]
        pos += 1
        if size > 0x7F:
            size, pos = _varint(buf, pos - 1)
        stop = pos + size
        if stop > end:
            raise ProtobufError("truncated field")
        if key == 0x12:
            append(_span(buf, pos, stop, ids))
        pos = stop
    if pos != end:
        raise ProtobufError("truncated scope spans")


def spans_from_protobuf(body: bytes) -> list[Span]:
    """Every span of an ExportTraceServiceRequest (resource_spans 1 > scope_spans 2 > spans 2)."""
    spans: list[Span] = []
    ids = _Ids()
    try:
        for key, _wire, start, stop in _fields(body, 0, len(body)):
            if key != 0x0A:
                continue
            for k, _w, s, e in _fields(body, start, stop):
                if k == 0x12:
                    _scope_spans(body, s, e, ids, spans)
    except (IndexError, struct.error):
        raise ProtobufError("truncated message") from None
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
