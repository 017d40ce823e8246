"""The OTLP decoder (no protobuf library) against OpenTelemetry's own protobuf classes: random
requests encoded by ``opentelemetry-proto`` decode to the same spans, from protobuf and JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.protobuf.json_format import MessageToDict
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tracklet.wire.otlp import ProtobufError, spans_from_json, spans_from_protobuf

_VALUES = st.recursive(
    st.text(max_size=6)
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3)
    ),
    max_leaves=5,
)


def _set(target: AnyValue, value: Any) -> None:
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, list):
        target.array_value.SetInParent()
        for item in value:
            _set(target.array_value.values.add(), item)
    else:
        target.kvlist_value.SetInParent()
        for key, item in value.items():
            kv: KeyValue = target.kvlist_value.values.add()
            kv.key = key
            _set(kv.value, item)


@settings(max_examples=40, deadline=None)
@given(
    trace_id=st.binary(min_size=16, max_size=16).filter(any),
    spans=st.lists(
        st.tuples(
            st.binary(min_size=8, max_size=8).filter(any),
            st.text(max_size=8),
            st.integers(1, 2**62),
            st.dictionaries(st.text(min_size=1, max_size=5), _VALUES, max_size=3),
            st.sampled_from([0, 1, 2]),
        ),
        min_size=1,
        max_size=4,
    ),
)
def test_decoder_matches_opentelemetry_proto(trace_id: bytes, spans: list[Any]) -> None:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for i, (span_id, name, start, attributes, code) in enumerate(spans):
        span = scope.spans.add()
        span.trace_id, span.span_id, span.name = trace_id, span_id, name
        if i:
            span.parent_span_id = spans[0][0]
        span.start_time_unix_nano, span.end_time_unix_nano = start, start + 5
        for key, value in attributes.items():
            kv = span.attributes.add()
            kv.key = key
            _set(kv.value, value)
        event = span.events.add()
        event.name, event.time_unix_nano = "e", start + 1
        kv = event.attributes.add()
        kv.key = "n"
        kv.value.int_value = i
        span.status.code, span.status.message = code, "m" if code == 2 else ""
    decoded = spans_from_protobuf(request.SerializeToString())
    from_json = spans_from_json(json.loads(json.dumps(MessageToDict(request))))
    assert from_json == decoded
    for index, (got, (span_id, name, start, attributes, code)) in enumerate(
        zip(decoded, spans, strict=True)
    ):
        assert got.trace_id == "tr-" + trace_id.hex()
        assert (got.span_id, got.name, got.start_time_ns, got.end_time_ns) == (
            span_id.hex(),
            name,
            start,
            start + 5,
        )
        assert got.parent_id == (None if index == 0 else spans[0][0].hex())
        stored = {k: v for k, v in got.attributes.items() if k != "mlflow.traceRequestId"}
        assert stored == attributes
        assert got.status.status_code.value == ("UNSET", "OK", "ERROR")[code]
        assert got.events[0].attributes == {"n": index}


@pytest.mark.parametrize("body", [b"\x0a\x05\x12", b"\xff\xff", b"\x0b"])
def test_malformed_protobuf_is_refused(body: bytes) -> None:
    with pytest.raises(ProtobufError):
        spans_from_protobuf(body)
