"""Live spans: created, annotated and ended on the caller's thread, cheaply.

A :class:`LiveSpan` keeps what it is given (inputs, outputs, attributes) as Python values; the
exporter thread JSON-encodes them when the trace is exported. Containers and other mutable
values are encoded at once instead (``capture``), so that a list the caller changes after the
call is recorded as it was. A :class:`_LiveTrace` collects a trace's ended spans and its info
updates until the root span ends, then goes to the exporter whole.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

from tracklet.entities import Link, SpanEvent, SpanStatus, SpanStatusCode, SpanType
from tracklet.entities.span import trace_id_from_otel
from tracklet.entities.trace import TraceState
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException

_IMMUTABLE = (str, int, float, bool, type(None))
_INFO_SPAN_TYPES = frozenset({"LLM", "CHAT_MODEL", "TOOL", "RETRIEVER", "AGENT", "EMBEDDING"})
LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_ERROR = 10, 20, 40
_rand = random.getrandbits


class Encoded(str):
    """A value already JSON-encoded (on the caller's thread, because it could change)."""

    __slots__ = ()


def to_json(value: Any) -> str:
    """A value as MLflow encodes span attributes: JSON, non-ASCII kept, anything else str()."""
    if type(value) is Encoded:
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=_fallback)
    except (TypeError, ValueError):
        return json.dumps(str(value), ensure_ascii=False)


def _fallback(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # pydantic models, as MLflow's encoder
        return value.model_dump()
    fields = getattr(value, "__dataclass_fields__", None)
    if fields is not None:
        return {name: getattr(value, name) for name in fields}
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def capture(value: Any) -> Any:
    """``value`` itself if it cannot change later, else its JSON now."""
    if type(value) in _IMMUTABLE:
        return value
    if type(value) is dict and all(type(v) in _IMMUTABLE for v in value.values()):
        return dict(value)  # a shallow copy suffices: its values cannot change
    return Encoded(to_json(value))


def new_span_id() -> str:
    return f"{_rand(64) or 1:016x}"


class _LiveTrace:
    """A trace being recorded: its ended spans and what ``update_current_trace`` set."""

    __slots__ = (
        "client_request_id",
        "ended",
        "experiment_id",
        "metadata",
        "request_preview",
        "response_preview",
        "root",
        "sampled",
        "state",
        "tags",
        "trace_id",
        "tracking_uri",
    )

    def __init__(self, experiment_id: str | None, tracking_uri: str | None) -> None:
        self.trace_id = trace_id_from_otel(_rand(128) or 1)
        self.experiment_id = experiment_id
        self.tracking_uri = tracking_uri
        self.ended: list[LiveSpan] = []
        self.root: LiveSpan | None = None
        self.tags: dict[str, str] = {}
        self.metadata: dict[str, str] = {}
        self.client_request_id: str | None = None
        self.request_preview: str | None = None
        self.response_preview: str | None = None
        self.state: TraceState | None = None
        # False: dropped by sampling; its spans are recorded (children follow their parent's
        # decision) but the trace is never exported.
        self.sampled = True

    def sample(self, ratio: float) -> None:
        """Keep the trace with probability ``ratio``, decided by its id as OpenTelemetry's
        ``TraceIdRatioBased`` sampler (MLflow's) does: its low 64 bits below ratio * 2**64."""
        if ratio < 1.0:
            self.sampled = int(self.trace_id[-16:], 16) < round(ratio * 2**64)


# Called with the trace when its root span ends (the exporter's submit).
on_trace_end: list[Callable[[_LiveTrace], None]] = []


class LiveSpan:
    """A span being recorded (MLflow's ``LiveSpan``): set inputs, outputs, attributes, status."""

    __slots__ = (
        "_trace",
        "attributes_",
        "end_time_ns",
        "events",
        "function_name",
        "inputs_",
        "links",
        "log_level",
        "name",
        "outputs_",
        "parent_id",
        "span_id",
        "span_type",
        "start_time_ns",
        "status_code",
        "status_description",
    )

    def __init__(
        self,
        trace: _LiveTrace,
        name: str,
        parent_id: str | None,
        span_type: str | None = SpanType.UNKNOWN,
        start_time_ns: int | None = None,
    ) -> None:
        self._trace = trace
        self.name = name
        self.span_id = new_span_id()
        self.parent_id = parent_id
        self.span_type = span_type or SpanType.UNKNOWN
        self.start_time_ns = start_time_ns or time.time_ns()
        self.end_time_ns: int | None = None
        self.attributes_: dict[str, Any] = {}
        self.inputs_: Any = None
        self.outputs_: Any = None
        self.function_name: str | None = None
        self.events: list[SpanEvent] = []
        self.links: list[Link] = []
        self.status_code = SpanStatusCode.UNSET
        self.status_description = ""
        self.log_level: int | None = None
        if parent_id is None:
            trace.root = self

    # -------------------------------------------------------------- MLflow's span properties

    @property
    def trace_id(self) -> str:
        return self._trace.trace_id

    @property
    def request_id(self) -> str:
        return self._trace.trace_id

    @property
    def inputs(self) -> Any:
        return _decoded(self.inputs_)

    @property
    def outputs(self) -> Any:
        return _decoded(self.outputs_)

    @property
    def attributes(self) -> dict[str, Any]:
        return {key: _decoded(value) for key, value in self.attributes_.items()}

    @property
    def status(self) -> SpanStatus:
        return SpanStatus(self.status_code, self.status_description)

    def get_attribute(self, key: str) -> Any:
        return _decoded(self.attributes_.get(key))

    # -------------------------------------------------------------- setters

    def set_inputs(self, inputs: Any) -> None:
        self.inputs_ = capture(inputs)

    def set_outputs(self, outputs: Any) -> None:
        self.outputs_ = capture(outputs)

    def set_attribute(self, key: str, value: Any) -> None:
        self.attributes_[str(key)] = capture(value)

    def set_attributes(self, attributes: dict[str, Any]) -> None:
        for key, value in attributes.items():
            self.attributes_[str(key)] = capture(value)

    def set_span_type(self, span_type: str) -> None:
        self.span_type = span_type

    def set_status(self, status: SpanStatus | SpanStatusCode | str) -> None:
        if isinstance(status, SpanStatus):
            self.status_code, self.status_description = status.status_code, status.description
        else:
            self.status_code = SpanStatusCode.from_any(status)

    def add_event(self, event: SpanEvent) -> None:
        self.events.append(event)
        if event.name == "exception" and (self.log_level or 0) < LOG_LEVEL_ERROR:
            self.log_level = LOG_LEVEL_ERROR

    def add_link(self, link: Link) -> None:
        """Link this span to a span of another trace (or of its own), as MLflow does: nothing
        once the span has ended.

        Raises:
            MlflowException: ``link`` is not a ``Link``, or its ids are not hex ids.
        """
        if self.end_time_ns is not None:
            return
        if not isinstance(link, Link):
            raise MlflowException(
                f"The `link` parameter must be a Link instance, but got {type(link)}.",
                INVALID_PARAMETER_VALUE,
            )
        link.otel_ids()
        attributes = dict(link.attributes) if link.attributes else None
        self.links.append(Link(link.trace_id, link.span_id, attributes))

    def record_exception(self, exception: BaseException | str) -> None:
        """An ``exception`` event and status ERROR ("<Type>: <message>"), as MLflow does."""
        if isinstance(exception, str):
            exception = Exception(exception)
        if not isinstance(exception, BaseException):
            raise MlflowException(
                "The `exception` parameter must be an Exception instance or a string.",
                INVALID_PARAMETER_VALUE,
            )
        self.add_event(SpanEvent.from_exception(exception))
        self.status_code = SpanStatusCode.ERROR
        self.status_description = f"{type(exception).__name__}: {exception}"

    def end(
        self,
        outputs: Any = None,
        attributes: dict[str, Any] | None = None,
        status: SpanStatus | str | None = None,
        end_time_ns: int | None = None,
    ) -> None:
        """End the span (status OK unless ERROR was set); the root's end exports the trace."""
        if self.end_time_ns is not None:
            return
        if attributes:
            self.set_attributes(attributes)
        if outputs is not None:
            self.outputs_ = capture(outputs)
        if status is not None:
            self.set_status(status)
        if self.status_code is not SpanStatusCode.ERROR:
            self.status_code = SpanStatusCode.OK
        if self.log_level is None:
            self.log_level = (
                LOG_LEVEL_INFO if self.span_type in _INFO_SPAN_TYPES else LOG_LEVEL_DEBUG
            )
        self.end_time_ns = end_time_ns or time.time_ns()
        trace = self._trace
        trace.ended.append(self)
        if trace.root is self:
            for callback in on_trace_end:
                callback(trace)

    def __repr__(self) -> str:
        return (
            f"LiveSpan(name={self.name!r}, trace_id={self.trace_id!r}, span_id={self.span_id!r}, "
            f"parent_id={self.parent_id!r})"
        )


def _decoded(value: Any) -> Any:
    if type(value) is Encoded:
        return json.loads(value)
    return value


class NoOpSpan:
    """What the API returns while tracing is disabled: accepts every call, records nothing."""

    # MLflow's NoOpSpan's: a trace id that tells a dropped span from a real one.
    trace_id = "MLFLOW_NO_OP_SPAN_TRACE_ID"
    request_id = "MLFLOW_NO_OP_SPAN_TRACE_ID"
    span_id = None
    parent_id = None
    name = None
    inputs = None
    outputs = None
    attributes: dict[str, Any] = {}  # noqa: RUF012 (never written)

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None
