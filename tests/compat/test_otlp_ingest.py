"""OTLP/HTTP ingest on ``tracklet server``: the OpenTelemetry SDK's own exporter lands its spans
as traces that ``search_traces`` finds with their structure; bad requests are 400s; and random
span trees round-trip through tracklet's REST store (OTLP JSON out, v3 JSON back)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from tests.tracing.test_trace_store import span_trees

import tracklet
from tracklet import MlflowClient
from tracklet.entities import (
    Span,
    SpanEvent,
    SpanStatus,
    Trace,
    TraceData,
    TraceInfo,
    TraceLocation,
    TraceState,
)


def test_opentelemetry_sdk_exporter(tracklet_server: Any, unique: str) -> None:
    client = MlflowClient(tracklet_server.url)
    experiment_id = client.create_experiment(unique)
    exporter = OTLPSpanExporter(
        endpoint=f"{tracklet_server.url}/v1/traces",
        headers={"x-mlflow-experiment-id": experiment_id},
    )
    provider = TracerProvider(resource=Resource.create({"service.name": "svc"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("request", attributes={"http.method": "GET"}) as root:
        with tracer.start_as_current_span("db", attributes={"rows": 3, "tags": ["a", "b"]}):
            pass
        with tracer.start_as_current_span("fail") as failing:
            failing.add_event("retry", {"attempt": 2})
            failing.set_status(Status(StatusCode.ERROR, "timeout"))
        root_context = root.get_span_context()
    provider.shutdown()

    (trace,) = client.search_traces(locations=[experiment_id])
    assert trace.trace_id == f"tr-{root_context.trace_id:032x}"
    spans = {s.name: s for s in trace.data.spans}
    assert spans["request"].parent_id is None
    assert spans["request"].span_id == f"{root_context.span_id:016x}"
    assert spans["db"].parent_id == spans["fail"].parent_id == spans["request"].span_id
    assert spans["db"].attributes["rows"] == 3
    assert spans["db"].attributes["tags"] == ["a", "b"]
    assert spans["request"].attributes["http.method"] == "GET"
    assert spans["fail"].status == SpanStatus("ERROR", "timeout")
    assert [(e.name, dict(e.attributes)) for e in spans["fail"].events] == [
        ("retry", {"attempt": 2})
    ]
    assert trace.info.tags["mlflow.traceName"] == "request"
    assert str(trace.info.state) == "OK"
    assert client.search_traces(locations=[experiment_id], filter_string="span.name = 'fail'")


def test_bad_otlp_requests(tracklet_server: Any, unique: str) -> None:
    experiment_id = MlflowClient(tracklet_server.url).create_experiment(unique)
    url = f"{tracklet_server.url}/v1/traces"
    protobuf = {"content-type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    for headers, body, status in [
        (protobuf, b"", 400),
        (protobuf, b"\x0a\x05\x12", 400),
        ({"content-type": "application/x-protobuf"}, b"\x0a\x00", 400),
        ({**protobuf, "x-mlflow-experiment-id": "999999"}, _one_span_protobuf(), 404),
        ({**protobuf, "content-encoding": "gzip"}, gzip.compress(_one_span_protobuf()), 200),
        ({**protobuf, "content-type": "text/plain"}, b"x", 400),
    ]:
        response = httpx.post(url, content=body, headers=headers)
        assert response.status_code == status, (headers, body, response.text)
        if status != 200:
            assert json.loads(response.content)["error_code"]


def _one_span_protobuf() -> bytes:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "one"
    span.start_time_unix_nano, span.end_time_unix_nano = 10**18, 10**18 + 1
    return request.SerializeToString()


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=span_trees())
def test_random_span_trees_round_trip_over_rest(tracklet_server: Any, tree: list[Any]) -> None:
    store = MlflowClient(tracklet_server.url)._store
    trace_id = f"tr-{abs(hash(str(tree))) % 2**128:032x}"
    spans = [
        Span(
            trace_id=trace_id,
            span_id=f"{i + 1:016x}",
            parent_id=None if parent is None else f"{parent + 1:016x}",
            name=name,
            start_time_ns=1_000_000_000 + i,
            end_time_ns=2_000_000_000 + i,
            status=SpanStatus("ERROR" if failed else "OK", "boom" if failed else ""),
            raw_attributes={
                "mlflow.traceRequestId": json.dumps(trace_id),
                "value": json.dumps(value),
            },
            events=tuple(SpanEvent(f"e{j}", j, {"v": v}) for j, v in enumerate(events)),
        )
        for i, (parent, name, value, failed, events) in enumerate(tree)
    ]
    info = TraceInfo(trace_id, TraceLocation.from_experiment_id("0"), 1000, TraceState.OK)
    store.log_traces([Trace(info, TraceData(spans))])
    (stored,) = store.batch_get_traces([trace_id])
    # Over the wire attribute values travel decoded and are encoded again on arrival, so the
    # values (not their JSON spelling) must survive.
    assert [_meaning(s) for s in sorted(stored.data.spans, key=lambda s: s.span_id)] == [
        _meaning(s) for s in spans
    ]
    assert stored.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"


def _meaning(span: Span) -> tuple[Any, ...]:
    return (
        span.trace_id,
        span.span_id,
        span.parent_id,
        span.name,
        span.start_time_ns,
        span.end_time_ns,
        span.status,
        span.attributes,
        span.events,
    )


@pytest.fixture(autouse=True)
def _forget_uri() -> None:
    tracklet.set_tracking_uri("sqlite:///unused.db")
