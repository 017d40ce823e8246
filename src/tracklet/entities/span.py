"""Finished spans, as MLflow 3.17 stores and sends them (spec §4.4, §9.8).

A :class:`Span` keeps its attributes as MLflow does: each value JSON-encoded into a string
(``{"mlflow.spanInputs": "{\\"x\\": 1}"}``), decoded when read. ``to_dict`` is MLflow's
``traces.json`` span form: base64 OpenTelemetry ids, ``STATUS_CODE_*`` names.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar

from tracklet.entities._base import _Entity
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

TRACE_ID_PREFIX = "tr-"


class SpanAttributeKey:
    """MLflow's own span attribute keys (spec §8.4)."""

    REQUEST_ID = "mlflow.traceRequestId"
    EXPERIMENT_ID = "mlflow.experimentId"
    SPAN_TYPE = "mlflow.spanType"
    FUNCTION_NAME = "mlflow.spanFunctionName"
    INPUTS = "mlflow.spanInputs"
    OUTPUTS = "mlflow.spanOutputs"
    LOG_LEVEL = "mlflow.spanLogLevel"
    DESCRIPTION = "mlflow.spanDescription"


class SpanType:
    """MLflow's predefined span types."""

    LLM = "LLM"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    CHAT_MODEL = "CHAT_MODEL"
    RETRIEVER = "RETRIEVER"
    PARSER = "PARSER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    MEMORY = "MEMORY"
    UNKNOWN = "UNKNOWN"
    WORKFLOW = "WORKFLOW"
    TASK = "TASK"
    GUARDRAIL = "GUARDRAIL"
    EVALUATOR = "EVALUATOR"


class SpanStatusCode(str, Enum):
    """A span's status code; ``to_proto_name`` is the OpenTelemetry enum name."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"

    def __str__(self) -> str:
        return self.value

    def to_proto_name(self) -> str:
        return f"STATUS_CODE_{self.value}"

    @classmethod
    def from_any(cls, code: object) -> SpanStatusCode:
        """A code from its name (``OK``), its proto name (``STATUS_CODE_OK``) or number (1)."""
        if isinstance(code, SpanStatusCode):
            return code
        if isinstance(code, int) and not isinstance(code, bool) and 0 <= code <= 2:
            return (cls.UNSET, cls.OK, cls.ERROR)[code]
        if isinstance(code, str):
            name = code.upper().removeprefix("STATUS_CODE_")
            if name in cls.__members__:
                return cls[name]
        raise MlflowException(
            f"{code!r} is not a valid SpanStatusCode value. Please use one of "
            f"{[c.value for c in cls]}",
            INVALID_PARAMETER_VALUE,
        )


_PROTO_NAMES = {code: code.to_proto_name() for code in SpanStatusCode}


@dataclass(frozen=True, slots=True)
class SpanStatus(_Entity):
    """Status of a span (or a trace): a code and, for ERROR, a description."""

    status_code: SpanStatusCode
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.status_code, SpanStatusCode):
            object.__setattr__(self, "status_code", SpanStatusCode.from_any(self.status_code))


@dataclass(frozen=True, slots=True)
class SpanEvent(_Entity):
    """Something that happened during a span, such as an exception (OpenTelemetry's event)."""

    name: str
    timestamp: int = field(default_factory=time.time_ns)
    attributes: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_exception(cls, exception: BaseException) -> SpanEvent:
        """OpenTelemetry's ``exception`` event: message, type and stack trace."""
        try:
            stacktrace = "".join(traceback.format_exception(exception)).strip()
        except Exception:
            stacktrace = repr(exception)
        return cls(
            name="exception",
            attributes={
                "exception.message": str(exception),
                "exception.type": type(exception).__name__,
                "exception.stacktrace": stacktrace,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "time_unix_nano": self.timestamp, "attributes": self.attributes}


@dataclass(frozen=True, slots=True)
class Link(_Entity):
    """A link from a span to a span of another trace, or of its own (OpenTelemetry's span
    link, MLflow's ``Link``): for related work that is not a parent and child.

    Attributes:
        trace_id: the linked trace's ``tr-`` id (or its 32 hex digits).
        span_id: the linked span's 16 hex digits.
        attributes: what the link means (JSON-serialisable values), or None.
    """

    trace_id: str
    span_id: str
    attributes: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        attributes = self.attributes
        return {
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "attributes": None if attributes is None else dict(attributes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Link:
        attributes = data.get("attributes")
        return cls(str(data["trace_id"]), str(data["span_id"]), dict(attributes or {}) or None)

    def otel_ids(self) -> tuple[int, int]:
        """The linked trace's and span's ids as OpenTelemetry integers.

        Raises:
            MlflowException: an id that is not hex, or wider than 128 (trace) or 64 bits.
        """
        try:
            trace = int(str(self.trace_id).removeprefix(TRACE_ID_PREFIX), 16)
            span = int(str(self.span_id), 16)
            if trace.bit_length() > 128 or span.bit_length() > 64:
                raise ValueError("too wide")
        except (TypeError, ValueError):
            raise MlflowException(
                f"Invalid link: trace_id={self.trace_id!r}, span_id={self.span_id!r}. trace_id "
                "must be a valid MLflow trace ID or hex string, and span_id must be a hex string.",
                INVALID_PARAMETER_VALUE,
            ) from None
        return trace, span


def trace_id_from_otel(otel_trace_id: int) -> str:
    """``tr-`` and the 32 lowercase hex digits of a 128-bit OpenTelemetry trace id."""
    return f"{TRACE_ID_PREFIX}{otel_trace_id:032x}"


def otel_trace_id_hex(trace_id: str) -> str:
    """The OpenTelemetry hex of a ``tr-`` trace id."""
    return trace_id.removeprefix(TRACE_ID_PREFIX)


@functools.lru_cache(maxsize=4096)
def _b64(hex_id: str) -> str:
    # Cached: a trace's id, and a parent's span id, recur in every span of a batch.
    return binascii.b2a_base64(bytes.fromhex(hex_id), newline=False).decode("ascii")


def _hex_of(encoded: str, size: int) -> str:
    """Hex of an id given as base64 bytes (traces.json, OTLP) or already hex (OTLP/JSON)."""
    if len(encoded) == size * 2:
        try:
            int(encoded, 16)
            return encoded.lower()
        except ValueError:
            pass
    raw = base64.b64decode(encoded)
    if len(raw) != size:
        raise MlflowException(f"Invalid span id {encoded!r}", INVALID_PARAMETER_VALUE)
    return raw.hex()


def decode_attribute(raw: Any) -> Any:
    """One stored attribute value: JSON text decoded, anything else as it is."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw


@dataclass(frozen=True, slots=True)
class Span(_Entity):
    """A finished span of a trace.

    Attributes:
        trace_id: the trace's ``tr-`` id.
        span_id: 16 hex digits, unique within the trace.
        parent_id: the parent's span id, None for the root span.
        raw_attributes: each attribute value JSON-encoded, as stored; see ``attributes``.
    """

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_time_ns: int
    end_time_ns: int | None
    status: SpanStatus
    raw_attributes: Mapping[str, str] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[Link, ...] = ()

    _extra_properties: ClassVar[tuple[str, ...]] = ("span_type", "inputs", "outputs")

    @property
    def request_id(self) -> str:
        """Deprecated alias of ``trace_id`` (MLflow 2)."""
        return self.trace_id

    @property
    def attributes(self) -> dict[str, Any]:
        """Every attribute, decoded."""
        return {key: decode_attribute(value) for key, value in self.raw_attributes.items()}

    def get_attribute(self, key: str) -> Any:
        raw = self.raw_attributes.get(key)
        return None if raw is None else decode_attribute(raw)

    @property
    def inputs(self) -> Any:
        return self.get_attribute(SpanAttributeKey.INPUTS)

    @property
    def outputs(self) -> Any:
        return self.get_attribute(SpanAttributeKey.OUTPUTS)

    @property
    def span_type(self) -> str | None:
        value = self.get_attribute(SpanAttributeKey.SPAN_TYPE)
        return None if value is None else str(value)

    def to_dict(self) -> dict[str, Any]:
        """MLflow's serialised span (``traces.json``, the SQL store's span content)."""
        return {
            "trace_id": _b64(otel_trace_id_hex(self.trace_id)),
            "span_id": _b64(self.span_id),
            "parent_span_id": _b64(self.parent_id) if self.parent_id else None,
            "name": self.name,
            "start_time_unix_nano": self.start_time_ns,
            "end_time_unix_nano": self.end_time_ns,
            "events": [event.to_dict() for event in self.events],
            "status": {
                "code": _PROTO_NAMES[self.status.status_code],
                "message": self.status.description,
            },
            "attributes": dict(self.raw_attributes),
            "links": [link.to_dict() for link in self.links],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Span:
        """A span from MLflow's serialised form (base64 or hex ids)."""
        try:
            attributes = {str(k): _as_json_text(v) for k, v in data["attributes"].items()}
            trace_id = decode_attribute(attributes.get(SpanAttributeKey.REQUEST_ID))
            if not trace_id:
                trace_id = trace_id_from_otel(int(_hex_of(data["trace_id"], 16), 16))
            parent = data.get("parent_span_id")
            status = data.get("status") or {}
            end = data.get("end_time_unix_nano")
            return cls(
                trace_id=str(trace_id),
                span_id=_hex_of(data["span_id"], 8),
                parent_id=_hex_of(parent, 8) if parent else None,
                name=str(data["name"]),
                start_time_ns=int(data["start_time_unix_nano"]),
                end_time_ns=int(end) if end else None,
                status=SpanStatus(
                    SpanStatusCode.from_any(status.get("code", "UNSET")),
                    str(status.get("message") or ""),
                ),
                raw_attributes=attributes,
                events=tuple(
                    SpanEvent(
                        str(e["name"]),
                        int(e.get("time_unix_nano") or 0),
                        dict(e.get("attributes") or {}),
                    )
                    for e in data.get("events") or ()
                ),
                links=tuple(Link.from_dict(link) for link in data.get("links") or ()),
            )
        except MlflowException:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise MlflowException(
                f"Failed to create a Span object from the given dictionary: {error!r}",
                INVALID_PARAMETER_VALUE,
            ) from None


def _as_json_text(value: Any) -> str:
    # Stored attribute values are JSON text; a writer that sent a bare value gets it encoded.
    return value if isinstance(value, str) else json.dumps(value)
