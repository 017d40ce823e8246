"""Spans by hand: ``start_span``, ``start_span_no_context``, the active span and trace, and
the export wiring (which store and experiment a finished trace goes to)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from tracklet.entities import Link, Trace
from tracklet.entities.trace import TraceMetadataKey, TraceState
from tracklet.exceptions import INVALID_PARAMETER_VALUE, MlflowException
from tracklet.tracing import span as span_module
from tracklet.tracing.context import current_span, set_last_trace_id, switch
from tracklet.tracing.encode import encode_trace
from tracklet.tracing.exporter import Exporter
from tracklet.tracing.span import LiveSpan, NoOpSpan, _LiveTrace, capture
from tracklet.tracking import _state

_logger = logging.getLogger("tracklet.tracing")
SPAN_DESCRIPTION = "mlflow.spanDescription"
SAMPLING_RATIO_ENV = "MLFLOW_TRACE_SAMPLING_RATIO"


def _write(uri: str | None, traces: Sequence[_LiveTrace]) -> list[tuple[Trace, BaseException]]:
    """The exporter's writer: encode, then one ``log_traces`` (trace by trace if it fails)."""
    from tracklet.store.schemes import get_store
    from tracklet.tracking import context
    from tracklet.tracking import uri as tracking_uri

    default_experiment: str | None = None
    entities = []
    for live in traces:
        experiment_id = live.experiment_id
        if experiment_id is None:
            default_experiment = default_experiment or context.current_experiment_id()
            experiment_id = default_experiment
        entities.append(encode_trace(live, experiment_id))
    store = get_store(tracking_uri.resolve(uri))
    try:
        store.log_traces(entities)
        return []
    except Exception:
        if len(entities) == 1:
            raise
    failures: list[tuple[Trace, BaseException]] = []
    for trace in entities:
        try:
            store.log_traces([trace])
        except Exception as error:
            failures.append((trace, error))
    return failures


exporter = Exporter(_write)


def _trace_ended(trace: _LiveTrace) -> None:
    if not trace.sampled:
        return
    set_last_trace_id(trace.trace_id)
    exporter.submit(trace)


span_module.on_trace_end.append(_trace_ended)
_state.trace_flushers.append(lambda: exporter.flush())
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=exporter.after_fork)


def default_sampling_ratio() -> float:
    """``MLFLOW_TRACE_SAMPLING_RATIO`` (default 1.0); an invalid value is ignored, warned."""
    text = os.environ.get(SAMPLING_RATIO_ENV)
    if text is None:
        return 1.0
    try:
        ratio = float(text)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        _logger.warning(
            "%s must be between 0.0 and 1.0, got %s. Ignoring the invalid value and using "
            "default sampling (1.0).",
            SAMPLING_RATIO_ENV,
            text,
        )
        return 1.0
    return ratio


def check_sampling_ratio(ratio: float | None) -> None:
    if ratio is not None and not (
        isinstance(ratio, int | float) and not isinstance(ratio, bool) and 0.0 <= ratio <= 1.0
    ):
        raise MlflowException(
            f"sampling_ratio_override must be between 0.0 and 1.0, got {ratio}",
            INVALID_PARAMETER_VALUE,
        )


def _new_trace(
    experiment_id: str | None, run_id: str | None = None, sampling_ratio: float | None = None
) -> _LiveTrace:
    """A trace bound to the tracking URI, experiment, run and model in force now."""
    live = _LiveTrace(
        experiment_id or _state.active_experiment_id,
        _state.tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or None,
    )
    live.sample(default_sampling_ratio() if sampling_ratio is None else sampling_ratio)
    stack = _state.run_stack()
    if run_id is None and stack:
        run_id = stack[-1].info.run_id
    if run_id:
        live.metadata[TraceMetadataKey.SOURCE_RUN] = run_id
    model_id = _state.active_model_id()
    if model_id:
        live.metadata[TraceMetadataKey.MODEL_ID] = model_id
    return live


def new_span(
    name: str,
    parent: LiveSpan | None,
    span_type: str | None,
    experiment_id: str | None = None,
    run_id: str | None = None,
    start_time_ns: int | None = None,
    sampling_ratio: float | None = None,
) -> LiveSpan:
    """A span under ``parent``, or the root of a new trace (kept with probability
    ``sampling_ratio``, default ``MLFLOW_TRACE_SAMPLING_RATIO``; children follow their root)."""
    if parent is None:
        trace = _new_trace(experiment_id, run_id, sampling_ratio)
        return LiveSpan(trace, name, None, span_type, start_time_ns)
    return LiveSpan(parent._trace, name, parent.span_id, span_type, start_time_ns)


def _log_level(level: object) -> int | None:
    if level is None:
        return None
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    levels = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}
    name = getattr(level, "name", level)
    if isinstance(name, str) and name.strip().upper() in levels:
        return levels[name.strip().upper()]
    raise MlflowException(
        f"Invalid SpanLogLevel name {level!r}. Expected one of {list(levels)}",
        INVALID_PARAMETER_VALUE,
    )


def _experiment_of(trace_destination: Any) -> str | None:
    if trace_destination is None:
        return None
    experiment_id = getattr(trace_destination, "experiment_id", None)
    if experiment_id is None:
        raise MlflowException(
            "trace_destination must name an MLflow experiment (an object with experiment_id).",
            INVALID_PARAMETER_VALUE,
        )
    return str(experiment_id)


def configure(
    span: LiveSpan,
    attributes: dict[str, Any] | None,
    log_level: Any,
    description: str | None,
    links: Sequence[Link] | None = None,
) -> None:
    for link in links or ():
        try:
            span.add_link(link)
        except MlflowException:
            _logger.warning("Skipping invalid link: %s", link)
    if attributes:
        span.set_attributes(attributes)
    if log_level is not None:
        span.log_level = _log_level(log_level)
    if description is not None:
        span.attributes_[SPAN_DESCRIPTION] = description


class start_span:
    """``with start_span("name") as span:`` a span under the active one (or a new trace).

    The span is active inside the block; an exception leaving the block is recorded on it
    (an ``exception`` event, status ERROR) and propagates unchanged. A new trace dropped by
    sampling (``MLFLOW_TRACE_SAMPLING_RATIO``) yields a ``NoOpSpan``, as MLflow does; the spans
    started inside it are dropped with it.

    Args:
        name: The span's name.
        span_type: An ``entities.SpanType`` value.
        attributes: Attributes to set on the span.
        trace_destination: An object with ``experiment_id``: where a new trace goes.
        log_level: The span's log level (a name such as ``"INFO"``, or a number).
        run_id: The run a new trace is linked to (default: the active run).
        links: ``Link`` s to spans of other traces (an invalid one is skipped, warned).
        description: The span's description.
    """

    __slots__ = ("_span", "_token")

    def __init__(
        self,
        name: str = "span",
        span_type: str | None = "UNKNOWN",
        attributes: dict[str, Any] | None = None,
        trace_destination: Any = None,
        log_level: Any = None,
        run_id: str | None = None,
        links: Sequence[Link] | None = None,
        description: str | None = None,
    ) -> None:
        self._token: Any = None
        if not switch.enabled:
            self._span: Any = NoOpSpan()
            return
        self._span = new_span(
            name, current_span.get(), span_type, _experiment_of(trace_destination), run_id
        )
        configure(self._span, attributes, log_level, description, links)

    def __enter__(self) -> LiveSpan:
        span = self._span
        if isinstance(span, LiveSpan):
            self._token = current_span.set(span)
            if not span._trace.sampled:
                return NoOpSpan()  # type: ignore[return-value]
        return span  # type: ignore[no-any-return]

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is None:
            return
        current_span.reset(self._token)
        if exc is not None:
            self._span.record_exception(exc)
        self._span.end()


def start_span_no_context(
    name: str,
    span_type: str = "UNKNOWN",
    parent_span: LiveSpan | None = None,
    inputs: Any = None,
    attributes: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    experiment_id: str | None = None,
    start_time_ns: int | None = None,
    log_level: Any = None,
    links: Sequence[Link] | None = None,
    description: str | None = None,
) -> LiveSpan:
    """A span that is not made active (it does not become the parent of spans started in
    this context); end it with ``span.end()``.

    Args:
        name: The span's name.
        span_type: An ``entities.SpanType`` value.
        parent_span: The parent span; None starts a new trace.
        inputs: The span's inputs.
        attributes: Attributes to set on the span.
        tags: Tags of the new trace (with no ``parent_span``).
        metadata: Metadata of the new trace (with no ``parent_span``).
        experiment_id: Where a new trace goes (default: the active experiment).
        start_time_ns: The start time in nanoseconds since the epoch (default: now).
        log_level: The span's log level (a name such as ``"INFO"``, or a number).
        links: ``Link`` s to spans of other traces (an invalid one is skipped, warned).
        description: The span's description.

    Returns:
        The live span (a ``NoOpSpan`` for a new trace dropped by sampling).
    """
    if not switch.enabled or isinstance(parent_span, NoOpSpan):
        return NoOpSpan()  # type: ignore[return-value]
    span = new_span(name, parent_span, span_type, experiment_id, start_time_ns=start_time_ns)
    if not span._trace.sampled:
        return NoOpSpan()  # type: ignore[return-value]
    if inputs is not None:
        span.inputs_ = capture(inputs)
    configure(span, attributes, log_level, description, links)
    if parent_span is None:
        span._trace.tags.update({str(k): str(v) for k, v in (tags or {}).items()})
        span._trace.metadata.update({str(k): str(v) for k, v in (metadata or {}).items()})
    return span


def get_current_active_span() -> LiveSpan | None:
    """The span active in this context (thread or asyncio task), if any.

    Returns:
        The active span, or None outside any span (or in a trace dropped by sampling).
    """
    span = current_span.get()
    return span if span is None or span._trace.sampled else None


def get_active_trace_id() -> str | None:
    """The id of the trace being recorded in this context, if any.

    Returns:
        The trace id (``tr-...``), or None outside any span.
    """
    span = get_current_active_span()
    return None if span is None else span.trace_id


def update_current_trace(
    tags: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    client_request_id: str | None = None,
    request_preview: str | None = None,
    response_preview: str | None = None,
    state: TraceState | str | None = None,
    model_id: str | None = None,
    session_id: str | None = None,
    user: str | None = None,
) -> None:
    """Set tags, metadata, the client request id, previews or state of the active trace.

    Args:
        tags: Tags to add (mutable later with ``set_trace_tag``).
        metadata: Metadata to add (immutable once the trace is written).
        client_request_id: The caller's id for the request.
        request_preview: Replaces the preview of the root span's inputs.
        response_preview: Replaces the preview of the root span's outputs.
        state: ``"OK"`` or ``"ERROR"``, overriding the root span's status.
        model_id: Sets the ``mlflow.modelId`` metadata.
        session_id: Sets the ``mlflow.trace.session`` metadata.
        user: Sets the ``mlflow.trace.user`` metadata.
    """
    span = get_current_active_span()
    if span is None:
        _logger.warning(
            "No active trace found. Please create a span using `start_span` or `@trace` "
            "before calling `update_current_trace`."
        )
        return
    for preview, field in (
        (request_preview, "request_preview"),
        (response_preview, "response_preview"),
    ):
        if preview is not None and not isinstance(preview, str):
            raise MlflowException(
                f"The `{field}` parameter must be a string.", INVALID_PARAMETER_VALUE
            )
    new_state = None
    if state is not None:
        new_state = TraceState.from_any(state) if isinstance(state, str) else state
        if new_state not in (TraceState.OK, TraceState.ERROR):
            raise MlflowException(
                f"State must be either 'OK' or 'ERROR', but got '{state}'.",
                INVALID_PARAMETER_VALUE,
            )
    extra = dict(metadata or {})
    if session_id is not None:
        extra[TraceMetadataKey.TRACE_SESSION] = session_id
    if user is not None:
        extra[TraceMetadataKey.TRACE_USER] = user
    if model_id:
        extra[TraceMetadataKey.MODEL_ID] = model_id
    trace = span._trace
    trace.tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    trace.metadata.update({str(k): str(v) for k, v in extra.items()})
    if client_request_id is not None:
        trace.client_request_id = str(client_request_id)
    if request_preview:
        trace.request_preview = request_preview
    if response_preview:
        trace.response_preview = response_preview
    if new_state is not None:
        trace.state = new_state


def flush_trace_async_logging(terminate: bool = False) -> None:
    """Wait until every trace that ended in this process so far is written.

    Args:
        terminate: Accepted for MLflow's signature; the exporter thread stays (it is a
            daemon and idles without work).
    """
    exporter.flush()
