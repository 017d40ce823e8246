"""The ``spans`` rows of the SQL store: one tuple per span, written by one positional
``executemany`` (an OTLP request writes hundreds; tuples bind faster than dicts), its
``content`` MLflow's span dictionary as JSON.
"""

from __future__ import annotations

import binascii
import functools
import json
import re
from collections.abc import Iterable
from json.encoder import encode_basestring_ascii as _ascii
from typing import Any

from tracklet import jsonio
from tracklet.entities import Span, SpanStatusCode
from tracklet.entities.span import SpanAttributeKey, decode_attribute, otel_trace_id_hex
from tracklet.store.sql.compiled import Compiled, Db, bp, insert_for
from tracklet.store.sql.schema import spans

SPAN_COLUMNS = tuple(c.name for c in spans.columns)


def _upsert_span(dialect_name: str) -> Any:
    values = {c.name: bp(c.name) for c in spans.columns}
    insert = insert_for(dialect_name)(spans).values(**values)
    updated = {
        name: getattr(insert.excluded, name)
        for name in values
        if name not in ("trace_id", "span_id")
    }
    return insert.on_conflict_do_update(
        index_elements=[spans.c.trace_id, spans.c.span_id], set_=updated
    )


# json.dumps(..., separators=(",", ":"), default=str) without an encoder built per call.
_dump_content = json.JSONEncoder(separators=(",", ":"), default=str).encode


def _span_type(span: Span) -> str | None:
    raw = span.raw_attributes.get(SpanAttributeKey.SPAN_TYPE)
    if raw is None:
        return None
    # The usual JSON string without escapes is read without the JSON parser.
    if len(raw) > 1 and raw[0] == raw[-1] == '"' and '"' not in raw[1:-1] and "\\" not in raw:
        text = raw[1:-1]
    else:
        value = decode_attribute(raw)
        if value is None:
            return None
        text = str(value)
    # PostgreSQL text cannot hold NUL; the content keeps the exact value (JSON-escaped).
    return text.replace("\x00", "")


SPAN_COLUMNS = tuple(c.name for c in spans.columns)


def span_row(span: Span) -> tuple[Any, ...]:
    """The span's ``spans`` row, values in ``SPAN_COLUMNS`` order (positional binds: an
    OTLP request writes hundreds of rows, and tuples bind faster than dicts)."""
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name.replace("\x00", ""),
        _span_type(span),
        _STATUS_VALUES[span.status.status_code],
        span.start_time_ns,
        span.end_time_ns,
        _content(span),
    )


_PROTO_NAMES = {code: code.to_proto_name() for code in SpanStatusCode}
_STATUS_VALUES = {code: code.value for code in SpanStatusCode}  # no enum property per span


@functools.lru_cache(maxsize=4096)
def _b64(hex_id: str) -> str:
    # Cached: a trace's id, and a parent's span id, recur in every span of a request.
    return _b2a(bytes.fromhex(hex_id), newline=False).decode("ascii")


_b2a = binascii.b2a_base64  # a span's own id, unique: not worth a cache entry


def _plain_content(span: Span) -> str:
    """``to_dict`` JSON-encoded by string formatting, for a span without events or links whose
    attributes are strings (every span OTLP ingest makes): no dict built, nothing walked. The
    ASCII encoder escapes what a stored text must not hold (lone surrogates) as JSON does;
    anything else (a non-string attribute, a non-integer time) raises TypeError."""
    attributes = ",".join(
        [f"{_ascii(key)}:{_ascii(value)}" for key, value in span.raw_attributes.items()]
    )
    parent = span.parent_id
    start, end = span.start_time_ns, span.end_time_ns
    if type(start) is not int or (end is not None and type(end) is not int):
        raise TypeError("a span time that is not an integer")
    status = span.status
    return (
        f'{{"trace_id":"{_b64(otel_trace_id_hex(span.trace_id))}",'
        f'"span_id":"{_b2a(bytes.fromhex(span.span_id), newline=False).decode()}",'
        f'"parent_span_id":{_ascii(_b64(parent)) if parent else "null"},'
        f'"name":{_ascii(span.name)},'
        f'"start_time_unix_nano":{start},'
        f'"end_time_unix_nano":{"null" if end is None else end},'
        '"events":[],'
        f'"status":{{"code":"{_PROTO_NAMES[status.status_code]}",'
        f'"message":{_ascii(status.description)}}},'
        f'"attributes":{{{attributes}}},"links":[]}}'
    )


def _content(span: Span) -> str:
    if not span.events and not span.links:
        try:
            return _plain_content(span)
        except TypeError:  # an attribute value that is not JSON text: the general path
            pass
    data = span.to_dict()
    # orjson (when installed) is several times faster; event and link attributes are raw
    # values, where it would write NaN as null, so those spans take the standard encoder.
    if not span.events and not span.links:
        try:
            return jsonio.dumps(data).decode()
        except TypeError:  # a value orjson refuses (a >64-bit integer, say)
            pass
    return _dump_content(data)


class Positional(Compiled):
    """A statement whose named binds become positional (``?`` / ``%s``): rows are tuples of
    ``columns``, which binds faster than dicts when a request writes hundreds."""

    def __init__(self, build: Any, columns: tuple[str, ...]) -> None:
        super().__init__(build)
        self.columns = columns
        self._positional: dict[str, str] = {}

    def text(self, dialect_name: str) -> str:
        text = self._positional.get(dialect_name)
        if text is None:
            named = super().text(dialect_name)
            pattern = r"%\((\w+)\)s" if dialect_name == "postgresql" else r"(?<!:):(\w+)"
            order = tuple(re.findall(pattern, named))
            if order != self.columns:  # the rows are built in this order
                raise TypeError(f"binds {order} are not in the order {self.columns}")
            text = re.sub(pattern, "%s" if dialect_name == "postgresql" else "?", named)
            self._positional[dialect_name] = text
        return text


_INSERT_SPAN = Positional(_upsert_span, SPAN_COLUMNS)


def write_spans(db: Db, rows: Iterable[tuple[Any, ...]]) -> None:
    """Insert or replace spans; rows from ``span_row``."""
    db.executemany(_INSERT_SPAN, rows)


__all__ = ["SPAN_COLUMNS", "Positional", "span_row", "write_spans"]
