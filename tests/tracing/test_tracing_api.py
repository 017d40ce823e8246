"""The tracing API: nesting through threads and asyncio tasks, generators, errors, the switch,
spans by hand, and the exporter's failure handling and exit flush."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import tracklet as mlflow
from tracklet import tracing
from tracklet.entities import SpanType, Trace
from tracklet.exceptions import MlflowException


def _last() -> Trace:
    mlflow.flush_trace_async_logging()
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id is not None
    trace = mlflow.get_trace(trace_id)
    assert trace is not None
    return trace


def _tree(trace: Trace) -> dict[str, str | None]:
    by_id = {s.span_id: s.name for s in trace.data.spans}
    return {s.name: by_id.get(s.parent_id) if s.parent_id else None for s in trace.data.spans}


def test_asyncio_tasks_and_context_copying_threads_nest(tracking_uri: str) -> None:
    @mlflow.trace
    async def leaf(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @mlflow.trace
    async def fan_out() -> list[int]:
        return list(await asyncio.gather(leaf(1), leaf(2)))

    assert asyncio.run(fan_out()) == [1, 2]
    trace = _last()
    assert sorted(_tree(trace).items(), key=str) == sorted(
        {"fan_out": None, "leaf": "fan_out"}.items(), key=str
    )
    assert len(trace.data.spans) == 3
    assert trace.data.spans[0].outputs == [1, 2]

    @mlflow.trace
    def child() -> str:
        return threading.current_thread().name

    @mlflow.trace
    def parent() -> None:
        context = contextvars.copy_context()
        copied = threading.Thread(target=context.run, args=(child,), name="copied")
        copied.start()
        copied.join()
        fresh = threading.Thread(target=child, name="fresh")  # no context: a trace of its own
        fresh.start()
        fresh.join()

    parent()
    mlflow.flush_trace_async_logging()
    traces = mlflow.search_traces(return_type="list", order_by=["timestamp_ms ASC"])
    trees = [_tree(t) for t in traces[-2:]]
    assert {"parent": None, "child": "parent"} in trees
    assert {"child": None} in trees


def test_generators_record_chunks_and_reduce(tracking_uri: str) -> None:
    @mlflow.trace(output_reducer=sum)
    def numbers(n: int) -> Any:
        for i in range(n):
            with mlflow.start_span("inside"):
                pass
            yield i

    assert list(numbers(3)) == [0, 1, 2]
    trace = _last()
    root = trace.data.spans[0]
    assert root.outputs == 3
    assert [e.name for e in root.events] == [f"mlflow.chunk.item.{i}" for i in range(3)]
    assert _tree(trace) == {"numbers": None, "inside": "numbers"}

    @mlflow.trace
    async def letters() -> Any:
        for c in "ab":
            yield c

    async def consume() -> list[str]:
        return [c async for c in letters()]

    assert asyncio.run(consume()) == ["a", "b"]
    assert _last().data.spans[0].outputs == ["a", "b"]
    with pytest.raises(MlflowException, match="only supported for generator"):
        mlflow.trace(output_reducer=sum)(lambda: 1)


def test_exceptions_are_recorded_and_reraised_unchanged(tracking_uri: str) -> None:
    error = KeyError("missing")

    @mlflow.trace(span_type=SpanType.TOOL)
    def fails() -> None:
        raise error

    with pytest.raises(KeyError) as caught:
        fails()
    assert caught.value is error
    trace = _last()
    assert str(trace.info.state) == "ERROR"
    span = trace.data.spans[0]
    assert span.status.status_code.value == "ERROR"
    assert span.status.description == "KeyError: 'missing'"
    assert span.events[0].attributes["exception.type"] == "KeyError"
    assert "raise error" in span.events[0].attributes["exception.stacktrace"]
    assert span.get_attribute("mlflow.spanLogLevel") == 40

    with pytest.raises(ZeroDivisionError), mlflow.start_span("manual"):
        _ = 1 / 0
    assert _last().data.spans[0].status.description == "ZeroDivisionError: division by zero"


def test_disable_and_enable(tracking_uri: str) -> None:
    @mlflow.trace
    def f(x: int) -> int:
        return x + 1

    f(1)
    first = mlflow.get_last_active_trace_id()
    tracing.disable()
    try:
        assert not tracing.is_enabled()
        assert f(2) == 3
        with mlflow.start_span("ignored") as span:
            span.set_attribute("a", 1)
        assert mlflow.get_last_active_trace_id() == first
    finally:
        tracing.enable()
    f(3)
    assert mlflow.get_last_active_trace_id() != first


def test_spans_by_hand_and_trace_updates(tracking_uri: str) -> None:
    root = mlflow.start_span_no_context(
        "request", inputs={"q": 1}, tags={"env": "test"}, metadata={"mlflow.trace.user": "ann"}
    )
    child = mlflow.start_span_no_context("step", parent_span=root, span_type="RETRIEVER")
    child.end(outputs=["doc"], attributes={"k": 1})
    assert mlflow.get_current_active_span() is None
    root.end(outputs="done")
    trace = _last()
    assert trace.info.tags["env"] == "test"
    assert trace.info.trace_metadata["mlflow.trace.user"] == "ann"
    assert _tree(trace) == {"request": None, "step": "request"}
    step = trace.search_spans(span_type="RETRIEVER")[0]
    assert (step.outputs, step.attributes["k"]) == (["doc"], 1)

    with mlflow.start_span("outer") as outer:
        assert mlflow.get_current_active_span() is outer
        mlflow.update_current_trace(
            client_request_id="req-1",
            request_preview="custom",
            state="ERROR",
            session_id="s",
            user="u",
        )
        with pytest.raises(MlflowException, match="State must be either"):
            mlflow.update_current_trace(state="IN_PROGRESS")
        with pytest.raises(MlflowException, match="must be a string"):
            mlflow.update_current_trace(request_preview=1)  # type: ignore[arg-type]
    info = _last().info
    assert (info.client_request_id, info.request_preview, str(info.state)) == (
        "req-1",
        "custom",
        "ERROR",
    )
    assert info.trace_metadata["mlflow.trace.session"] == "s"
    assert info.trace_metadata["mlflow.trace.user"] == "u"
    assert mlflow.search_traces(
        filter_string="trace.client_request_id = 'req-1'", return_type="list"
    )


def test_mutable_inputs_are_recorded_as_they_were(tracking_uri: str) -> None:
    @mlflow.trace
    def append(items: list[int]) -> list[int]:
        items.append(len(items))
        return items

    data = [0]
    append(data)
    data.clear()
    span = _last().data.spans[0]
    assert span.inputs == {"items": [0]}  # the list as it was at the call, not at export
    assert span.outputs == [0, 1]


def test_export_failure_is_reported_once_and_never_raised(
    tracking_uri: str, caplog: pytest.LogCaptureFixture
) -> None:
    experiment_id = mlflow.create_experiment("doomed")
    mlflow.set_experiment(experiment_id=experiment_id)
    mlflow.delete_experiment(experiment_id)

    @mlflow.trace
    def f() -> int:
        return 1

    with caplog.at_level(logging.WARNING, logger="tracklet.tracing"):
        assert [f() for _ in range(3)] == [1, 1, 1]
        mlflow.flush_trace_async_logging()
    warnings = [r for r in caplog.records if "Failed to export" in r.getMessage()]
    assert len(warnings) == 1
    assert "must be in the 'active' state" in warnings[0].getMessage()


def test_pending_traces_are_written_at_exit(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'exit.db'}"
    script = (
        "import tracklet as mlflow\n"
        f"mlflow.set_tracking_uri({uri!r})\n"
        "@mlflow.trace\n"
        "def f(i):\n    return i\n"
        "for i in range(200):\n    f(i)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=120)
    mlflow.set_tracking_uri(uri)
    assert (
        len(mlflow.search_traces(locations=["0"], return_type="list", include_spans=False)) == 200
    )
