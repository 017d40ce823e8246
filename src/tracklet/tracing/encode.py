"""Live traces to entities, on the exporter thread: MLflow's span attributes (JSON-encoded),
trace metadata (§8.2: previews, source, size stats) and tags (§8.3)."""

from __future__ import annotations

import functools
import json
from typing import Any

from tracklet.entities import (
    Span,
    SpanStatus,
    SpanStatusCode,
    Trace,
    TraceData,
    TraceInfo,
    TraceLocation,
    TraceState,
)
from tracklet.entities.span import SpanAttributeKey
from tracklet.entities.trace import TRACE_SCHEMA_VERSION, TraceMetadataKey, TraceTagKey
from tracklet.tracing.span import LiveSpan, _LiveTrace, to_json

PREVIEW_MAX = 1000


def encode_span(span: LiveSpan, trace_id_json: str) -> Span:
    raw: dict[str, str] = {
        SpanAttributeKey.REQUEST_ID: trace_id_json,
        SpanAttributeKey.SPAN_TYPE: to_json(span.span_type),
    }
    for key, value in span.attributes_.items():
        raw[key] = to_json(value)
    if span.function_name is not None:
        raw[SpanAttributeKey.FUNCTION_NAME] = to_json(span.function_name)
    if span.inputs_ is not None:
        raw[SpanAttributeKey.INPUTS] = to_json(span.inputs_)
    if span.outputs_ is not None:
        raw[SpanAttributeKey.OUTPUTS] = to_json(span.outputs_)
    if span.log_level is not None:
        raw[SpanAttributeKey.LOG_LEVEL] = str(span.log_level)
    return Span(
        trace_id=span.trace_id,
        span_id=span.span_id,
        parent_id=span.parent_id,
        name=span.name,
        start_time_ns=span.start_time_ns,
        end_time_ns=span.end_time_ns,
        status=SpanStatus(span.status_code, span.status_description),
        raw_attributes=raw,
        events=tuple(span.events),
        links=tuple(span.links),
    )


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    return text if len(text) <= PREVIEW_MAX else text[: PREVIEW_MAX - 3] + "..."


@functools.cache
def _source_metadata() -> dict[str, str]:
    """User, source and git facts of this process (the run system tags' values)."""
    from tracklet.tracking.system_tags import (
        MLFLOW_GIT_BRANCH,
        MLFLOW_GIT_COMMIT,
        MLFLOW_GIT_REPO_URL,
        context_tags,
    )

    tags = context_tags()
    for key in (MLFLOW_GIT_COMMIT, MLFLOW_GIT_BRANCH, MLFLOW_GIT_REPO_URL):
        tags.setdefault(key, "")
    return tags


def _size_stats(spans: list[Span]) -> tuple[int, str]:
    sizes = sorted(len(json.dumps(span.to_dict(), default=str)) for span in spans)
    total = sum(sizes) + 2 * len(sizes)

    def pct(p: float) -> int:
        return sizes[min(len(sizes) - 1, int(p * len(sizes)))] if sizes else 0

    stats = {
        "total_size_bytes": total,
        "num_spans": len(sizes),
        "max": sizes[-1] if sizes else 0,
        "p25": pct(0.25),
        "p50": pct(0.5),
        "p75": pct(0.75),
    }
    return total, json.dumps(stats)


def encode_trace(live: _LiveTrace, experiment_id: str) -> Trace:
    """The Trace entity of a finished live trace (root span first)."""
    root = live.root
    assert root is not None
    assert root.end_time_ns is not None
    trace_id_json = json.dumps(live.trace_id)
    ended = list(live.ended)
    ended.sort(key=lambda s: (s is not root, s.start_time_ns))
    spans = [encode_span(span, trace_id_json) for span in ended]
    root_span = spans[0]
    inputs = root_span.raw_attributes.get(SpanAttributeKey.INPUTS)
    outputs = root_span.raw_attributes.get(SpanAttributeKey.OUTPUTS)
    metadata: dict[str, Any] = dict(_source_metadata())
    metadata[TraceMetadataKey.SCHEMA_VERSION] = TRACE_SCHEMA_VERSION
    metadata[TraceMetadataKey.INPUTS] = _preview(inputs) or ""
    metadata[TraceMetadataKey.OUTPUTS] = _preview(outputs) or ""
    size, stats = _size_stats(spans)
    metadata[TraceMetadataKey.SIZE_BYTES] = str(size)
    metadata[TraceMetadataKey.SIZE_STATS] = stats
    metadata.update(live.metadata)
    tags = {TraceTagKey.TRACE_NAME: root.name}
    tags.update(live.tags)
    state = live.state or (
        TraceState.ERROR if root.status_code is SpanStatusCode.ERROR else TraceState.OK
    )
    info = TraceInfo(
        trace_id=live.trace_id,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=root.start_time_ns // 1_000_000,
        state=state,
        request_preview=live.request_preview or _preview(inputs),
        response_preview=live.response_preview or _preview(outputs),
        client_request_id=live.client_request_id,
        execution_duration=(root.end_time_ns - root.start_time_ns) // 1_000_000,
        trace_metadata={str(k): str(v) for k, v in metadata.items()},
        tags={str(k): str(v) for k, v in tags.items()},
    )
    return Trace(info, TraceData(spans))
