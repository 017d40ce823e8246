"""Span links and sampling (``sampling_ratio_override``, ``MLFLOW_TRACE_SAMPLING_RATIO``) on
the SQL stores, checked against the scenario's MLflow-derived expectations; the same scenario
runs with MLflow's client against ``tracklet server`` in tests/compat."""

from __future__ import annotations

import pytest
from tests.tracing.links_scenario import EXPECTED, run_links_scenario

import tracklet as mlflow
from tracklet.entities import Link, Span
from tracklet.exceptions import MlflowException


def test_links_and_sampling_override(tracking_uri: str) -> None:
    assert run_links_scenario(mlflow, "links") == EXPECTED


def test_invalid_links_and_ratios_are_refused(tracking_uri: str) -> None:
    with pytest.raises(MlflowException, match="sampling_ratio_override must be between"):
        mlflow.trace(sampling_ratio_override=1.5)
    with mlflow.start_span("s") as span:
        with pytest.raises(MlflowException, match="must be a Link instance"):
            span.add_link(("tr-1", "2"))  # type: ignore[arg-type]
        with pytest.raises(MlflowException, match="Invalid link"):
            span.add_link(Link("tr-" + "f" * 33, "1"))
        span.add_link(Link("ab" * 16, "cd" * 8, {"n": 1}))
    mlflow.flush_trace_async_logging()
    (stored,) = mlflow.get_trace(mlflow.get_last_active_trace_id()).data.spans  # type: ignore[union-attr]
    assert stored.links == (Link("ab" * 16, "cd" * 8, {"n": 1}),)


def test_environment_sampling_ratio(tracking_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    experiment_id = mlflow.set_experiment("sampled").experiment_id
    monkeypatch.setenv("MLFLOW_TRACE_SAMPLING_RATIO", "0")
    with mlflow.start_span("never") as span:
        assert span.trace_id == "MLFLOW_NO_OP_SPAN_TRACE_ID"
    monkeypatch.setenv("MLFLOW_TRACE_SAMPLING_RATIO", "0.5")

    @mlflow.trace
    def half(i: int) -> int:
        return i

    for i in range(200):
        half(i)
    monkeypatch.setenv("MLFLOW_TRACE_SAMPLING_RATIO", "7")  # invalid: ignored, everything kept
    with mlflow.start_span("always"):
        pass
    mlflow.flush_trace_async_logging()
    infos = mlflow.search_traces(locations=[experiment_id], return_type="list", max_results=500)
    kept = [t for t in infos if t.data.spans[0].name == "half"]
    assert 60 < len(kept) < 140
    # OpenTelemetry's TraceIdRatioBased: the low 64 bits of a kept trace's id are below ratio*2^64
    assert all(int(t.info.trace_id[-16:], 16) < 2**63 for t in kept)
    assert [t.data.spans[0].name for t in infos].count("always") == 1
    assert "never" not in [t.data.spans[0].name for t in infos]


def test_links_read_from_otlp_protobuf_and_json() -> None:
    """Links as OpenTelemetry's own protobuf classes write them (the SDK's exporter, MLflow's
    client), read from protobuf and from its JSON form alike; bytes attributes as base64."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    from tracklet.wire.otlp import spans_from_json, spans_from_protobuf

    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = b"\x01" * 16, b"\x02" * 8, "s"
    span.start_time_unix_nano, span.end_time_unix_nano = 10, 20
    for target, attributes in ((b"\x03", {"why": "retry", "raw": b"\xff"}), (b"\x04", {})):
        link = span.links.add()
        link.trace_id, link.span_id = target * 16, target * 8
        for key, value in attributes.items():
            kv = link.attributes.add()
            kv.key = key
            if isinstance(value, bytes):
                kv.value.bytes_value = value
            else:
                kv.value.string_value = value
    expected = (
        Link("tr-" + "03" * 16, "03" * 8, {"why": "retry", "raw": "/w=="}),
        Link("tr-" + "04" * 16, "04" * 8, None),
    )
    (decoded,) = spans_from_protobuf(request.SerializeToString())
    assert decoded.links == expected
    (from_json,) = spans_from_json(MessageToDict(request))
    assert from_json.links == expected
    assert Span.from_dict(decoded.to_dict()).links == expected
