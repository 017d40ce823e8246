"""The SQL trace store: filters of the one search language, order, pages, errors, tags, links,
deletion, OTLP-style span ingestion, and a property test of random span trees round-tripping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
from tracklet.exceptions import MlflowException
from tracklet.store.sql.store import SqlStore

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


def make_trace(
    experiment_id: str,
    index: int,
    *,
    name: str = "root",
    state: TraceState = TraceState.OK,
    tags: dict[str, str] | None = None,
    metadata: dict[str, str] | None = None,
    spans: list[tuple[str, str, dict[str, Any]]] | None = None,
    duration: int = 5,
) -> Trace:
    """A trace whose root is ``name``; ``spans`` adds children (name, type, attributes)."""
    trace_id = f"tr-{index:032x}"
    start = 1_700_000_000_000 + index * 10
    root = _span(trace_id, "a" * 15 + "1", None, name, "CHAIN", {}, start, duration)
    children = [
        _span(trace_id, f"{i + 2:016x}", root.span_id, n, t, a, start, 1)
        for i, (n, t, a) in enumerate(spans or [])
    ]
    info = TraceInfo(
        trace_id=trace_id,
        trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=start,
        state=state,
        request_preview=f'{{"i": {index}}}',
        execution_duration=duration,
        trace_metadata=metadata or {},
        tags={"mlflow.traceName": name, **(tags or {})},
    )
    return Trace(info, TraceData([root, *children]))


def _span(
    trace_id: str,
    span_id: str,
    parent: str | None,
    name: str,
    span_type: str,
    attributes: dict[str, Any],
    start_ms: int,
    duration_ms: int,
) -> Span:
    raw = {"mlflow.traceRequestId": json.dumps(trace_id), "mlflow.spanType": json.dumps(span_type)}
    raw.update({k: json.dumps(v) for k, v in attributes.items()})
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_id=parent,
        name=name,
        start_time_ns=start_ms * 1_000_000,
        end_time_ns=(start_ms + duration_ms) * 1_000_000,
        status=SpanStatus("OK"),
        raw_attributes=raw,
    )


@pytest.fixture
def seeded(store: SqlStore) -> tuple[SqlStore, str]:
    experiment_id = store.create_experiment("traces")
    store.log_traces(
        [
            make_trace(
                experiment_id,
                1,
                name="chat",
                metadata={"mlflow.modelId": "m-1", "mlflow.sourceRun": "r1", "team": "a"},
                spans=[("retrieve", "RETRIEVER", {"k": 3}), ("llm", "LLM", {"model": "gpt"})],
                duration=50,
            ),
            make_trace(
                experiment_id,
                2,
                name="chat",
                state=TraceState.ERROR,
                tags={"env": "prod"},
                metadata={"mlflow.modelId": "m-2", "team": "b"},
                spans=[("llm", "LLM", {"model": "small"})],
            ),
            make_trace(experiment_id, 3, name="batch", tags={"env": "dev"}, duration=500),
        ]
    )
    return store, experiment_id


CASES = [
    ("", [3, 2, 1]),
    ("trace.status = 'ERROR'", [2]),
    ("attributes.status IN ('OK')", [3, 1]),
    ("trace.name = 'chat'", [2, 1]),
    ("name LIKE 'ba%'", [3]),
    ("trace.timestamp_ms > 1700000000015", [3, 2]),
    ("trace.execution_time_ms >= 50", [3, 1]),
    ("trace.end_time_ms > 1700000000100", [3]),
    ("tags.env = 'prod'", [2]),
    ("tags.env IS NULL", [1]),
    ("tags.env IS NOT NULL", [3, 2]),
    ("tags.env RLIKE '^d.v$'", [3]),
    ("tag.env != 'prod'", [3]),
    ("metadata.`mlflow.modelId` = 'm-1'", [1]),
    ("request_metadata.team ILIKE 'B'", [2]),
    ("metadata.team IS NULL", [3]),
    ("trace.run_id = 'r1'", [1]),
    ("span.name = 'retrieve'", [1]),
    ("span.type = 'LLM'", [2, 1]),
    ("span.type NOT IN ('LLM')", [3]),
    ("span.attributes.model = 'gpt'", [1]),
    ("span.attributes.model LIKE '%mall%'", [2]),
    ("span.status = 'OK' AND span.name = 'llm'", [2, 1]),
    ("trace.text LIKE '%retrieve%'", [1]),
    ("trace.request_id = 'tr-00000000000000000000000000000002'", [2]),
]


def test_filters(seeded: tuple[SqlStore, str]) -> None:
    store, experiment_id = seeded
    for filter_string, expected in CASES:
        found = store.search_traces([experiment_id], filter_string)
        assert [int(t.trace_id[3:], 16) for t in found] == expected, filter_string


def test_order_pages_and_errors(seeded: tuple[SqlStore, str], tmp_path: Path) -> None:
    store, experiment_id = seeded
    by_duration = store.search_traces([experiment_id], order_by=["execution_time_ms DESC"])
    assert [t.execution_time_ms for t in by_duration] == [500, 50, 5]
    first = store.search_traces([experiment_id], max_results=2, order_by=["timestamp ASC"])
    assert first.token
    second = store.search_traces(
        [experiment_id], max_results=2, order_by=["timestamp ASC"], page_token=first.token
    )
    assert [t.request_time % 100 for t in [*first, *second]] == [10, 20, 30]
    assert second.token is None
    for bad, message in [
        ({"max_results": 501}, "at most 500"),
        ({"page_token": "garbage!"}, "Invalid page token"),
        ({"filter_string": "trace.nope = 1"}, "nope"),
        ({"filter_string": "feedback.quality = 'good'"}, "not supported"),
        ({"order_by": ["tags.env"]}, "order"),
    ]:
        with pytest.raises(MlflowException, match=message) as error:
            store.search_traces([experiment_id], **bad)  # type: ignore[arg-type]
        assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    with pytest.raises(MlflowException, match="different search"):
        store.search_traces([experiment_id], max_results=2, page_token=first.token)


def test_tags_links_and_deletion(seeded: tuple[SqlStore, str]) -> None:
    store, experiment_id = seeded
    trace_id = f"tr-{3:032x}"
    store.set_trace_tag(trace_id, "reviewed", "x" * 9000)
    assert len(store.get_trace_info(trace_id).tags["reviewed"]) == 8000
    store.set_trace_tag(trace_id, "mlflow.traceName", "renamed")
    assert [t.trace_id for t in store.search_traces([experiment_id], "name = 'renamed'")] == [
        trace_id
    ]
    store.delete_trace_tag(trace_id, "reviewed")
    assert "reviewed" not in store.get_trace_info(trace_id).tags
    for call in (
        lambda: store.set_trace_tag(trace_id, "mlflow.trace.spansLocation", "x"),
        lambda: store.delete_trace_tag(trace_id, "reviewed"),
        lambda: store.set_trace_tag("tr-missing", "k", "v"),
        lambda: store.get_trace_info("tr-missing"),
        lambda: store.delete_traces(experiment_id),
    ):
        with pytest.raises(MlflowException):
            call()
    store.link_traces_to_run([trace_id], "r9")
    assert [t.trace_id for t in store.search_traces([experiment_id], "run_id = 'r9'")] == [trace_id]
    assert store.delete_traces(experiment_id, max_timestamp_millis=1_700_000_000_020) == 2
    assert store.delete_traces(experiment_id, trace_ids=[trace_id, "tr-missing"]) == 1
    assert store.batch_get_traces([trace_id]) == []


def test_spans_first_then_info(store: SqlStore) -> None:
    """OTLP ingestion may create a trace from its spans before StartTraceV3 arrives."""
    experiment_id = store.create_experiment("otlp")
    trace = make_trace(experiment_id, 7, spans=[("child", "TOOL", {})])
    store.log_spans(experiment_id, trace.data.spans)
    early = store.get_trace_info(trace.trace_id)
    assert early.tags["mlflow.traceName"] == "root"
    assert early.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert str(early.state) == "OK"
    final = store.start_trace(trace.info)
    assert final.trace_metadata["mlflow.trace.infoFinalized"] == "true"
    assert final.tags["mlflow.artifactLocation"].endswith(f"/traces/{trace.trace_id}/artifacts")
    (stored,) = store.batch_get_traces([trace.trace_id])
    assert stored.data.spans == trace.data.spans
    assert stored.info.request_preview == trace.info.request_preview


@st.composite
def span_trees(draw: st.DrawFn) -> list[tuple[int | None, str, Any, bool, list[Any]]]:
    """(parent index, name, attribute value, failed, event attribute values) per span."""
    count = draw(st.integers(1, 12))
    nodes = []
    for i in range(count):
        parent = None if i == 0 else draw(st.integers(0, i - 1))
        nodes.append(
            (
                parent,
                draw(st.text(min_size=1, max_size=10)),
                draw(_JSON),
                draw(st.booleans()),
                draw(st.lists(st.integers() | st.text(max_size=5), max_size=2)),
            )
        )
    return nodes


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tree=span_trees())
def test_random_span_trees_round_trip(store: SqlStore, tree: list[Any]) -> None:
    experiment_id = "0"
    trace_id = f"tr-{abs(hash(str(tree))) % 2**128:032x}"
    spans = []
    for i, (parent, name, value, failed, events) in enumerate(tree):
        spans.append(
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
        )
    info = TraceInfo(trace_id, TraceLocation.from_experiment_id(experiment_id), 1000, TraceState.OK)
    store.log_traces([Trace(info, TraceData(spans))])
    (stored,) = store.batch_get_traces([trace_id])
    assert sorted(stored.data.spans, key=lambda s: s.span_id) == spans


@pytest.mark.parametrize(
    "raw", ['"TOOL"', '"A\\"B"', '"caf\\u00e9"', "null", '"x\\u0000y"', "42", "not json", None]
)
def test_span_row_type_and_content(raw: str | None) -> None:
    """The row's type column is the span's decoded type (NUL dropped), and its content reads
    back as the span, whichever JSON encoder wrote it."""
    from tracklet.store.sql import span_rows

    attributes = {"mlflow.traceRequestId": '"tr-1"', "big": str(2**70)}
    if raw is not None:
        attributes["mlflow.spanType"] = raw
    for events in ((), (SpanEvent("e", 1, {"nan": float("nan"), "big": 2**70}),)):
        span = Span(
            "tr-" + "1" * 32, "2" * 16, None, "n", 1, 2, SpanStatus("OK"), attributes, events
        )
        row = dict(zip(span_rows.SPAN_COLUMNS, span_rows.span_row(span), strict=True))
        expected = span.span_type
        assert row["type"] == (None if expected is None else expected.replace("\x00", ""))
        back = Span.from_dict(json.loads(row["content"]))
        assert back.raw_attributes == span.raw_attributes
        assert repr(back.events) == repr(span.events)


@pytest.mark.parametrize(
    ("name", "parent", "end", "message"),
    [
        ("n", None, 2, ""),
        ('café \u2603 "q" \\ \n', "3" * 16, None, "boom"),
        ("\ud800", None, 5, "x"),
    ],
)
def test_span_content_formatted_is_to_dict(
    name: str, parent: str | None, end: int | None, message: str
) -> None:
    """The content written by string formatting decodes to exactly the span's dictionary."""
    from tracklet.store.sql import span_rows

    attributes = {"mlflow.traceRequestId": '"tr-1"', "k\u00e9": '"v\\u00e9"', "n": "7"}
    span = Span(
        "tr-" + "a" * 32, "2" * 16, parent, name, 1, end, SpanStatus("ERROR", message), attributes
    )
    content = dict(zip(span_rows.SPAN_COLUMNS, span_rows.span_row(span), strict=True))["content"]
    assert json.loads(content) == span.to_dict()
